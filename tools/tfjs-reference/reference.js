// Runs a TensorFlow.js graph model (model.json + weight files) on raw float32 inputs with
// TensorFlow.js's own CPU kernels (pure JavaScript), the reference that the trainer's TF.js
// importer is tested against.
//
//   node reference.js MODEL.json INPUT.f32 N,H,W,C OUT_DIR
//
// Writes OUT_DIR/<i>.f32 (float32, little-endian) for each output of the model's signature, in
// the signature's order, and OUT_DIR/outputs.json with their names and shapes.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfconv = require('@tensorflow/tfjs-converter');

async function main() {
  const [modelPath, inputPath, shapeText, outDir] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: node reference.js MODEL.json INPUT.f32 N,H,W,C OUT_DIR');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  // The signature sits at the top level, or (older converters) in userDefinedMetadata.
  const signature = json.signature || (json.userDefinedMetadata || {}).signature;
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(path.dirname(modelPath), p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format,
      generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature,
      userDefinedMetadata: json.userDefinedMetadata, modelInitializer: json.modelInitializer,
    }),
  };
  const model = await tfconv.loadGraphModel(handler);
  const shape = shapeText.split(',').map(Number);
  const raw = fs.readFileSync(inputPath);
  const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), shape, 'float32');
  const outputs = Object.values(signature.outputs).map(o => o.name);
  let results = model.execute(input, outputs);
  if (!Array.isArray(results)) results = [results];
  fs.mkdirSync(outDir, { recursive: true });
  const meta = [];
  for (let i = 0; i < results.length; i++) {
    const data = await results[i].data();
    fs.writeFileSync(path.join(outDir, `${i}.f32`), Buffer.from(new Float32Array(data).buffer));
    meta.push({ name: outputs[i], shape: results[i].shape });
  }
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify(meta));
}

main().catch(e => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); });
