// Magenta's own MusicVAE inference (@magenta/music) on a checkpoint served over HTTP: encode NoteSequences to mu,
// decode given z greedily (no temperature: argmax every step). Usage: node parity.js URL IN.json OUT.json
// IN: {"sequences": [NoteSequence JSON], "z": [[...]]}. OUT: {"mu": [[...]], "notes": [[[pitch, start, end,
// instrument, isDrum], ...] per z]}.
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const mm = require('@magenta/music/node/music_vae');

async function main() {
  const [url, inPath, outPath] = process.argv.slice(2);
  const given = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const model = new mm.MusicVAE(url);
  await model.initialize();
  const mu = await model.encode(given.sequences);
  const decoded = await model.decode(tf.tensor2d(given.z));
  fs.writeFileSync(outPath, JSON.stringify({
    mu: mu.arraySync(),
    notes: decoded.map(ns => ns.notes.map(
        n => [n.pitch, n.quantizedStartStep, n.quantizedEndStep, n.instrument || 0, Boolean(n.isDrum)])),
  }));
  model.dispose();
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
