"""config.json, magenta.js's MusicVAESpec: the data converter that matches a representation, and back.

magenta.js takes `numSegments` (the conductor's steps) as the sign of a hierarchical model and then builds both a
conductor and Magenta's two-level HierarchicalLstmEncoder; without it, a flat decoder and a one-layer bidirectional
encoder. Trio always has three core decoders (TrioConverter's NUM_SPLITS), one per part."""

from __future__ import annotations

from musicvae.codecs import drums, melody
from musicvae.extract import REPRESENTATIONS, Representation

PITCHES = {"minPitch": melody.MIN_PITCH, "maxPitch": melody.MAX_PITCH}
CONVERTERS = {"melody": "MelodyConverter", "drums": "DrumsConverter", "trio": "TrioConverter"}
KINDS = {v: k for k, v in CONVERTERS.items()}


class Unsupported(ValueError):
    """A model or checkpoint one side cannot represent; the message says what and why."""


def unsupported_for_magentajs(config) -> str | None:
    """Why magenta.js cannot run this model the way this project does, or None."""
    if config.hierarchical != (config.encoder == "hierarchical"):
        return (
            "magenta.js builds a conductor only together with Magenta's hierarchical encoder "
            "(model.encoder: hierarchical and model.hierarchical: true, or neither)"
        )
    if config.encoder == "hierarchical" and len(config.enc_rnn_size) != 1:
        return f"magenta.js's hierarchical encoder has one layer per level, this model {len(config.enc_rnn_size)}"
    if config.encoder != "hierarchical" and len(config.enc_rnn_size) != 1:
        return f"magenta.js's flat encoder has one bidirectional layer, this model {len(config.enc_rnn_size)}"
    if config.hierarchical and config.conductor_input != "none":
        return (
            f"model.conductor_input is {config.conductor_input!r}; magenta.js's conductor reads Magenta's size-1 "
            f"zeros (conductor_input: none)"
        )
    if config.kind == "trio" and not config.hierarchical:
        return (
            "a flat trio is one decoder with a softmax per part; magenta.js's TrioConverter decodes with three "
            "separate decoders"
        )
    return None


def config_json(rep: Representation, hierarchical: bool) -> dict:
    segments = {"numSegments": rep.slice_bars} if hierarchical else {}
    # this project's drum mapping: magenta.js's default is an older one (docs/magentajs.md, "Where the two differ")
    drum_classes = {"pitchClasses": [list(p) for p in drums.PITCH_CLASSES]}
    args = {
        "melody": PITCHES,
        "drums": drum_classes,
        "trio": {"melArgs": PITCHES, "bassArgs": PITCHES, "drumsArgs": drum_classes},
    }[rep.kind]
    return {
        "type": "MusicVAE",
        "dataConverter": {"type": CONVERTERS[rep.kind], "args": {"numSteps": rep.steps, **segments, **args}},
    }


def representation(spec: dict) -> tuple[Representation, bool]:
    """The representation a config.json's converter cuts windows as, and whether it is hierarchical."""
    if spec.get("type") != "MusicVAE":
        raise Unsupported(f"config.json is for a {spec.get('type')!r} model, not MusicVAE")
    for key in ("chordEncoder", "conditionOnKey", "extraControls", "useBooleanDecoder"):
        if spec.get(key):
            raise Unsupported(f"config.json sets {key}: conditioned and Boolean decoders are not in this model")
    converter = spec.get("dataConverter", {})
    kind = KINDS.get(converter.get("type"))
    if kind is None:
        raise Unsupported(f"data converter {converter.get('type')!r} is not supported; supported: {', '.join(KINDS)}")
    args = converter.get("args", {})
    for part in (
        [args] if kind == "melody" else [args.get("melArgs", {}), args.get("bassArgs", {})] if kind == "trio" else []
    ):
        pitches = {k: part.get(k) for k in PITCHES}
        if pitches != PITCHES:
            raise Unsupported(f"the melody pitch range is {pitches}; this project's codec has {PITCHES}")
    for part in [args] if kind == "drums" else [args.get("drumsArgs", {})] if kind == "trio" else []:
        classes = part.get("pitchClasses")  # magenta.js's default has the same classes in the same order
        if classes and tuple(c[0] for c in classes) != drums.EXEMPLARS:
            raise Unsupported(
                f"drum classes led by pitches {[c[0] for c in classes]}; this project's are {list(drums.EXEMPLARS)}"
            )
    steps, segments = args.get("numSteps"), args.get("numSegments")
    matches = [r for r in REPRESENTATIONS.values() if r.kind == kind and r.steps == steps]
    if not matches:
        raise Unsupported(
            f"{converter['type']} of {steps} steps matches none of this project's representations "
            f"({', '.join(f'{r.name}: {r.steps} steps' for r in REPRESENTATIONS.values())})"
        )
    rep = matches[0]
    if segments not in (None, rep.slice_bars):
        raise Unsupported(f"numSegments {segments}: this project's conductor has one step a bar ({rep.slice_bars})")
    return rep, segments is not None
