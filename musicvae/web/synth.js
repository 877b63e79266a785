// A small Web Audio synth for symbolic music: the studio and the evaluate stage's listening.html both play with it,
// so a result sounds in any browser without FluidSynth. `synth.schedule(sequence, out, begin)` plays a sequence
// ({qpm, steps, parts: [{drum, notes: [[pitch, start, end], ...]}]}, times in 16th-note steps) into a node.

const synth = { audio: null, noise: null };

synth.context = function () {
  if (!synth.audio) {
    const ctx = new AudioContext();
    const noise = ctx.createBuffer(1, ctx.sampleRate, ctx.sampleRate);
    const samples = noise.getChannelData(0);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.random() * 2 - 1;
    synth.audio = ctx;
    synth.noise = noise;
  }
  return synth.audio;
};

const frequency = (pitch) => 440 * 2 ** ((pitch - 69) / 12);
// A melodic note: a triangle for the melody, a filtered sawtooth for the bass (an octave apart and a different
// colour, so a trio's parts stay distinguishable).
function tone(ctx, out, pitch, start, end, bass) {
  const osc = ctx.createOscillator(), gain = ctx.createGain();
  osc.type = bass ? "sawtooth" : "triangle";
  osc.frequency.value = frequency(pitch);
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(bass ? 0.18 : 0.3, start + 0.01);
  gain.gain.setTargetAtTime(0, Math.max(start + 0.01, end - 0.03), 0.02);
  if (bass) {
    const filter = ctx.createBiquadFilter();
    filter.type = "lowpass"; filter.frequency.value = 900;
    osc.connect(filter).connect(gain);
  } else osc.connect(gain);
  gain.connect(out);
  osc.start(start); osc.stop(end + 0.2);
}

// A drum hit by General MIDI key: kicks a falling sine, snares and claps band noise, the rest (hats, toms as
// cymbal-like ticks) short high noise.
function drum(ctx, out, key, start) {
  const gain = ctx.createGain();
  gain.connect(out);
  if (key === 35 || key === 36) {
    const osc = ctx.createOscillator();
    osc.frequency.setValueAtTime(150, start);
    osc.frequency.exponentialRampToValueAtTime(45, start + 0.12);
    gain.gain.setValueAtTime(0.8, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
    osc.connect(gain); osc.start(start); osc.stop(start + 0.3);
    return;
  }
  const snare = key >= 37 && key <= 40;
  const source = ctx.createBufferSource(), filter = ctx.createBiquadFilter();
  source.buffer = synth.noise;
  filter.type = snare ? "bandpass" : "highpass";
  filter.frequency.value = snare ? 1800 : 7000;
  gain.gain.setValueAtTime(snare ? 0.5 : 0.25, start);
  gain.gain.exponentialRampToValueAtTime(0.001, start + (snare ? 0.18 : 0.06));
  source.connect(filter).connect(gain);
  source.start(start, Math.random() * 0.5); source.stop(start + 0.25);
}


// Schedules every note of `sequence` from `begin` (seconds of the context's clock); returns the seconds per step.
synth.schedule = function (sequence, out, begin) {
  const ctx = synth.context(), secondsPerStep = 60 / sequence.qpm / 4;
  let scheduled = 0;
  sequence.parts.forEach((part, p) => {
    for (const [pitch, start, end] of part.notes) {
      if (part.drum) drum(ctx, out, pitch, begin + start * secondsPerStep);
      else tone(ctx, out, pitch, begin + start * secondsPerStep, begin + end * secondsPerStep, p === 1);
      scheduled++;
    }
  });
  return { secondsPerStep, scheduled };
};
