// Replays an editing trace with Yjs, Automerge and Loro in the same three phases as
// text_trace_bench: apply one edit at a time, encode the whole document, load it elsewhere.
// Prints one JSON object per library on stdout. Run by compare-peers.sh.
//   node replay.mjs TRACE.json[.gz] [yjs|automerge|loro ...]
import fs from 'node:fs';
import zlib from 'node:zlib';
import * as Y from 'yjs';
import * as Automerge from '@automerge/automerge';
import { LoroDoc } from 'loro-crdt';

const [tracePath, ...only] = process.argv.slice(2);
let raw = fs.readFileSync(tracePath);
if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
const trace = JSON.parse(raw.toString('utf8'));
const patches = trace.txns.flatMap((t) => t.patches);
const now = () => performance.now();
const heap = () => { if (global.gc) global.gc(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers; };

// Traces count code points; JS strings count UTF-16 units. Map when the text is not BMP-only.
const peers = {
  yjs: {
    apply() {
      const doc = new Y.Doc();
      const text = doc.getText('text');
      if (trace.startContent) text.insert(0, trace.startContent);
      for (const [pos, del, ins] of patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
      }
      return doc;
    },
    encode: (doc) => Y.encodeStateAsUpdate(doc),
    load(bytes) { const d = new Y.Doc(); Y.applyUpdate(d, bytes); return d; },
    text: (doc) => doc.getText('text').toString(),
  },
  automerge: {
    apply() {
      let doc = Automerge.from({ text: trace.startContent || '' });
      for (const [pos, del, ins] of patches) {
        doc = Automerge.change(doc, (d) => Automerge.splice(d, ['text'], pos, del, ins));
      }
      return doc;
    },
    encode: (doc) => Automerge.save(doc),
    load: (bytes) => Automerge.load(bytes),
    text: (doc) => doc.text.toString(),
  },
  loro: {
    apply() {
      const doc = new LoroDoc();
      const text = doc.getText('text');
      if (trace.startContent) text.insert(0, trace.startContent);
      for (const [pos, del, ins] of patches) {
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
        doc.commit();
      }
      return doc;
    },
    encode: (doc) => doc.export({ mode: 'snapshot' }),
    load(bytes) { const d = new LoroDoc(); d.import(bytes); return d; },
    text: (doc) => doc.getText('text').toString(),
  },
};

for (const [name, p] of Object.entries(peers)) {
  if (only.length && !only.includes(name)) continue;
  const h0 = heap();
  const t0 = now();
  const doc = p.apply();
  const t1 = now();
  const applyHeap = heap() - h0;
  const bytes = p.encode(doc);
  const t2 = now();
  const h1 = heap();
  const t3 = now();
  const loaded = p.load(bytes);
  const t4 = now();
  const loadHeap = heap() - h1;
  const ok = p.text(doc) === trace.endContent && p.text(loaded) === trace.endContent;
  console.log(JSON.stringify({
    name, patches: patches.length, apply_ms: t1 - t0, ops_per_s: patches.length / (t1 - t0) * 1000,
    encode_ms: t2 - t1, encoded_bytes: bytes.length, load_ms: t4 - t3,
    apply_heap_kb: Math.round(applyHeap / 1024), load_heap_kb: Math.round(loadHeap / 1024), ok,
  }));
}
