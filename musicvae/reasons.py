"""Why a file, or part of it, gave no training data, in words a musician understands; and the one way every
`musicvae` command reports a mistake the user can fix: `error: <file>: <reason in words> [<code>]`, the fix below.

Extraction counts its reasons by code (musicvae.extract, musicvae.midi.REASONS); the words are for people, the
code in brackets stays for scripts and for the preprocess report, which counts the same codes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

EDIT = "open it in your music software and export it again as a standard MIDI file"
SPLIT = "split it into shorter files"

WORDS = {
    # the whole file (musicvae.midi.REASONS, and extraction's failures)
    "empty": "the file is empty",
    "corrupt": "not a MIDI file, or a damaged one",
    "too_large": "the file is larger than a MIDI file may be here",
    "too_many_notes": "more than a million notes, more than one file may have here",
    "too_long": "the music lasts longer than one file may here (Magenta drops such files)",
    "bad_tempo": "a tempo change makes a beat last no time at all",
    "too_many_steps": "the tempo is so fast that the music spans far too many sixteenth notes",
    "too_many_time_splits": "the tempo or time signature changes too often (every change starts a new section)",
    "timeout": "reading the file took far too long, which is a bug",
    "error": "an internal error while reading it, which is a bug",
    # one representation of the file
    "too_many_windows": "so many instruments that their combinations would make too many windows",
    "no_windows": "no window of this kind anywhere in the file",
    "no_notes": "the file has no notes",
    # a section (the stretch between two tempo or time-signature changes), or windows of it
    "bad_time_signature": "an impossible time signature (a denominator of 0, or not a power of 2)",
    "not_16_steps_per_bar": "a section not in 4/4 or 2/2 (MusicVAE reads bars of 16 sixteenths only)",
    "no_extraction": "a section where no part of the needed kind fills a window without a long rest",
    "missing_trio_part": "a section lacking a melody, a bass or a drum part: a trio needs all three",
    "duplicate": "windows repeating music already taken from the same section",
    "over_cap": "windows over Magenta's cap per section and per file, so no song dominates",
}

FIXES = {
    "empty": EDIT,
    "corrupt": EDIT,
    "too_large": SPLIT,
    "too_many_notes": SPLIT,
    "too_long": SPLIT,
    "bad_tempo": "correct the tempo in your music software",
    "too_many_steps": "correct the tempo in your music software",
    "too_many_time_splits": "remove the tempo or time-signature changes the music does not need",
    "timeout": "please report the file",
    "error": "please report the file",
    "bad_time_signature": "correct the time signature in your music software",
    "not_16_steps_per_bar": "if the music is in 4/4 or 2/2 after all, correct its time signature",
    "missing_trio_part": "use a melody representation (mel_2bar, mel_16bar), or a file with melody, bass and drums",
}


class UsageError(Exception):
    """A mistake the user can fix: what it concerns (a file, an option), the reason in words, a code for scripts
    and the fix when there is one."""

    def __init__(self, subject: str | Path, words: str, code: str, fix: str = ""):
        super().__init__(f"{subject}: {words} [{code}]" + (f"\n  fix: {fix}" if fix else ""))
        self.code = code


def rejected(path: Path, code: str, detail: str) -> UsageError:
    """The error for a file that extraction rejected whole."""
    return UsageError(path, f"{WORDS[code]} ({detail})", code, FIXES.get(code, ""))


def commonest(reasons: Counter) -> str:
    """Why a file or a corpus gave no window, as the preprocess stage's dead letters say: the commonest reason, ties
    broken by name so that the same counts always give the same answer."""
    drops = {k: v for k, v in reasons.items() if k != "no_windows"}
    return max(sorted(drops), key=drops.get) if drops else "no_windows"


def no_window(path: Path, what: str, reasons: Counter, fix: str = "") -> UsageError:
    """The error for a file that gave no `what` (a window of some kind), with the fix for its commonest reason, else
    `fix`."""
    code = commonest(reasons)
    return UsageError(path, f"no {what}: {WORDS[code]}", code, FIXES.get(code) or fix)
