/** The toy tasks on the zoo's word-level vocabularies: prompt structure, corruption slots, answers, the train/test split, metrics, errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { integerTokenizer, loadTokenizer, wordLevelTokenizer, wordLevelTokenizerJson, type Tokenizer } from '../src/model/tokenizers/index.js';
import { TOY_VOCABS, fnv1a, makeTask, taskNames, toySplitOf, type Task, type TaskModel, type ToyTaskName } from '../src/tasks/index.js';
import { errorOf } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cs-toy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOY: ToyTaskName[] = ['ioi-toy', 'greater-than-toy', 'docstring-toy'];
const tokOf = (name: ToyTaskName): Tokenizer => wordLevelTokenizer(TOY_VOCABS[name]);
const modelOf = (name: ToyTaskName, tokenizer: Tokenizer | null = tokOf(name)): TaskModel => ({
  cfg: { name: `${name}-stub`, dVocab: TOY_VOCABS[name].length, nCtx: 64, bosTokenId: 0 },
  tokenizer,
});
const row = (t: Task, which: 'clean' | 'corrupt', i: number): number[] => {
  const pos = t[which].shape[1]!;
  return Array.from(t[which].data.subarray(i * pos, (i + 1) * pos));
};
const words = (name: ToyTaskName, ids: readonly number[]): string[] => ids.map((id) => TOY_VOCABS[name][id]!);
const idOf = (name: ToyTaskName, w: string): number => TOY_VOCABS[name].indexOf(w);
const diffAt = (a: readonly number[], b: readonly number[]): number[] => a.map((x, j) => (x === b[j] ? -1 : j)).filter((j) => j >= 0);
/** Logits [n, pos, V] of zeros with `set(i)` → [[token, value], …] at the last position of prompt i. */
function logitsAt(t: Task, set: (i: number) => [number, number][]): T.Tensor {
  const [n, pos] = t.clean.shape as [number, number];
  const V = TOY_VOCABS[t.name as ToyTaskName].length;
  const data = new Float32Array(n * pos * V);
  for (let i = 0; i < n; i++) for (const [tok, v] of set(i)) data[(i * pos + pos - 1) * V + tok] = v;
  return new T.Tensor(data, [n, pos, V]);
}

describe('toy vocabularies', () => {
  it('have <bos> at id 0, each word once, the stated sizes, and every word is emitted by the task', () => {
    expect(TOY.map((n) => TOY_VOCABS[n].length)).toEqual([54, 115, 52]);
    for (const name of TOY) {
      const v = TOY_VOCABS[name];
      expect(v[0]).toBe('<bos>');
      expect(new Set(v).size).toBe(v.length);
      const t = makeTask(name, modelOf(name), { n: 2000, seed: 3 });
      const used = new Set([...t.clean.data, ...t.corrupt.data, ...t.answers.flat(), ...t.wrongAnswers.flat()]);
      expect(used.size, name).toBe(v.length);
    }
    expect(taskNames()).toEqual(expect.arrayContaining(TOY));
  });
});

describe('ioi-toy', () => {
  const name = 'ioi-toy';
  it('15 tokens, names at 2, 4 and 10, IO/S answers, ABBA and BABA, ABC corruption of the three name slots only', () => {
    const t = makeTask(name, modelOf(name), { n: 200, seed: 1 });
    expect(t.clean.shape).toEqual([200, 15]);
    expect(t.corrupt.shape).toEqual([200, 15]);
    const names = new Set(TOY_VOCABS[name].slice(TOY_VOCABS[name].indexOf('mary')));
    const orders = new Set<string>();
    const starts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = row(t, 'clean', i);
      const k = row(t, 'corrupt', i);
      const w = words(name, c);
      expect(w[0]).toBe('<bos>');
      expect([w[3], w[14]]).toEqual(['and', 'to']);
      expect(t.texts![i]).toBe(w.slice(1).join(' '));
      starts.add(w[1]!);
      const [io, s] = [t.answers[i]![0]!, t.wrongAnswers[i]![0]!];
      expect(io).not.toBe(s);
      expect(c[10]).toBe(s);
      if (c[2] === io) { expect(c[4]).toBe(s); orders.add('abba'); } else { expect([c[2], c[4]]).toEqual([s, io]); orders.add('baba'); }
      expect(t.positions[i]).toEqual([14]);
      expect(diffAt(c, k)).toEqual([2, 4, 10]);
      const abc = [k[2]!, k[4]!, k[10]!];
      expect(new Set([...abc, io, s]).size).toBe(5);
      for (const x of [...abc, io, s]) expect(names.has(TOY_VOCABS[name][x]!)).toBe(true);
    }
    expect([...orders].sort()).toEqual(['abba', 'baba']);
    expect([...starts].sort()).toEqual(['after', 'then', 'when', 'while']);
    for (const order of ['abba', 'baba'] as const) {
      const o = makeTask(name, modelOf(name), { n: 30, order });
      for (let i = 0; i < 30; i++) expect(row(o, 'clean', i)[order === 'abba' ? 2 : 4]).toBe(o.answers[i]![0]);
    }
  });

  it('metric is logit(IO) − logit(S); correct iff IO is the top token', () => {
    const t = makeTask(name, modelOf(name), { n: 4, seed: 2 });
    const lg = logitsAt(t, (i) => [[t.answers[i]![0]!, 3], [t.wrongAnswers[i]![0]!, i === 0 ? 5 : 1]]);
    expect(Array.from(t.metric(lg).data)).toEqual([-2, 2, 2, 2]);
    expect(t.correct(lg)).toEqual([false, true, true, true]);
  });
});

describe('greater-than-toy', () => {
  const name = 'greater-than-toy';
  it('"<bos> the NOUN lasted from XX to", XX in 02…98, answers exactly the numbers > XX, corruption XX → 01 only', () => {
    const t = makeTask(name, modelOf(name), { n: 2000, seed: 5 });
    expect(t.clean.shape).toEqual([2000, 7]);
    const xs = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const w = words(name, row(t, 'clean', i));
      expect([w[0], w[1], w[3], w[4], w[6]]).toEqual(['<bos>', 'the', 'lasted', 'from', 'to']);
      const xx = Number(w[5]);
      xs.add(xx);
      const num = (y: number): number => idOf(name, String(y).padStart(2, '0'));
      expect(t.answers[i]).toEqual(Array.from({ length: 99 - xx }, (_, j) => num(xx + 1 + j)));
      expect(t.wrongAnswers[i]).toEqual(Array.from({ length: xx + 1 }, (_, j) => num(j)));
      const k = row(t, 'corrupt', i);
      expect(diffAt(row(t, 'clean', i), k)).toEqual([5]);
      expect(words(name, k)[5]).toBe('01');
      expect(t.positions[i]).toEqual([6]);
    }
    expect([Math.min(...xs), Math.max(...xs), xs.size]).toEqual([2, 98, 97]);
  });

  it('metric is Σ p(YY > XX) − Σ p(YY ≤ XX); correct iff the top token over the whole vocabulary is greater', () => {
    const t = makeTask(name, modelOf(name), { n: 3, seed: 0 });
    const xx = (i: number): number => Number(words(name, row(t, 'clean', i))[5]);
    // uniform logits: each of the 115 tokens has p = 1/115
    const uniform = logitsAt(t, () => []);
    Array.from(t.metric(uniform).data).forEach((v, i) => expect(v).toBeCloseTo(((99 - xx(i)) - (xx(i) + 1)) / 115, 6));
    const num = (y: number): number => idOf(name, String(y).padStart(2, '0'));
    const lg = logitsAt(t, (i) => [[i === 0 ? num(xx(i) + 1) : i === 1 ? num(xx(i)) : idOf(name, 'the'), 50]]);
    expect(t.correct(lg)).toEqual([true, false, false]);
    expect(t.metric(lg).data[0]).toBeCloseTo(1, 5);
    expect(t.metric(lg).data[1]).toBeCloseTo(-1, 5);
  });
});

describe('docstring-toy', () => {
  const name = 'docstring-toy';
  const layout = (k: number): { def: number[]; doc: number[]; last: number } => {
    const def = Array.from({ length: k }, (_, j) => 4 + 2 * j); // <bos> def NAME ( A , B , C ) : """ D D
    const start = 4 + 2 * k + 4; // first ":param"
    return { def, doc: Array.from({ length: k - 1 }, (_, j) => start + 5 * j + 1), last: start + 5 * (k - 1) };
  };
  for (const k of [3, 4]) {
    it(`K = ${k}: documents the first K − 1 def args in order, answer the K-th, wrong the others; corruption swaps only the def args for unseen ones`, () => {
      const t = makeTask(name, modelOf(name), { n: 100, seed: 9, ...(k === 4 && { args: 4 }) });
      const { def, doc, last } = layout(k);
      expect(t.clean.shape).toEqual([100, last + 1]);
      expect(last + 1).toBe(k === 3 ? 25 : 32);
      for (let i = 0; i < 100; i++) {
        const c = row(t, 'clean', i);
        const k2 = row(t, 'corrupt', i);
        const w = words(name, c);
        expect([w[0], w[1], w[3], w[def[k - 1]! + 1], w[def[k - 1]! + 2], w[def[k - 1]! + 3], w[last]]).toEqual(['<bos>', 'def', '(', ')', ':', '"""', ':param']);
        const defArgs = def.map((p) => c[p]!);
        expect(new Set(defArgs).size).toBe(k);
        expect(doc.map((p) => c[p])).toEqual(defArgs.slice(0, k - 1));
        for (const p of doc) expect([w[p - 1], w[p + 1]]).toEqual([':param', ':']);
        expect(t.answers[i]).toEqual([defArgs[k - 1]]);
        expect(t.wrongAnswers[i]).toEqual(defArgs.slice(0, k - 1));
        expect(t.positions[i]).toEqual([last]);
        expect(diffAt(c, k2)).toEqual(def);
        const newArgs = def.map((p) => k2[p]!);
        expect(new Set(newArgs).size).toBe(k);
        for (const a of newArgs) expect(c).not.toContain(a);
      }
    });
  }

  it('metric is the answer logit − the best wrong logit; correct iff the answer is the top token', () => {
    const t = makeTask(name, modelOf(name), { n: 2, seed: 4 });
    const lg = logitsAt(t, (i) => [[t.answers[i]![0]!, 5], [t.wrongAnswers[i]![0]!, 2], [t.wrongAnswers[i]![1]!, i === 0 ? 4 : 7]]);
    expect(Array.from(t.metric(lg).data)).toEqual([1, -2]);
    expect(t.correct(lg)).toEqual([true, false]);
  });
});

describe('every toy task', () => {
  it('is reproducible from the seed; another seed gives other prompts; bos=false drops the BOS column', () => {
    for (const name of TOY) {
      const a = makeTask(name, modelOf(name), { n: 20, seed: 7 });
      const b = makeTask(name, modelOf(name), { n: 20, seed: 7 });
      const c = makeTask(name, modelOf(name), { n: 20, seed: 8 });
      expect(Array.from(a.clean.data)).toEqual(Array.from(b.clean.data));
      expect(Array.from(a.corrupt.data)).toEqual(Array.from(b.corrupt.data));
      expect(Array.from(a.clean.data)).not.toEqual(Array.from(c.clean.data));
      const nb = makeTask(name, modelOf(name), { n: 20, seed: 7, bos: false });
      expect(nb.clean.shape[1]).toBe(a.clean.shape[1]! - 1);
      for (let i = 0; i < 20; i++) expect(row(nb, 'clean', i)).toEqual(row(a, 'clean', i).slice(1));
    }
  });

  it('split: test is the prompts whose FNV-1a of clean ids (without BOS) is ≡ 0 mod 10, ≈ 10%, disjoint from train', () => {
    expect([fnv1a([]), fnv1a([0]), fnv1a([1, 256]), fnv1a([7, 300, 65536])]).toEqual([2166136261, 1268118805, 2103887247, 709789216]);
    for (const name of TOY) {
      const key = (t: Task, i: number): string => row(t, 'clean', i).join(',');
      const all = makeTask(name, modelOf(name), { n: 2000, seed: 11 });
      const testShare = Array.from({ length: 2000 }, (_, i) => toySplitOf(row(all, 'clean', i).slice(1))).filter((s) => s === 'test').length / 2000;
      expect(testShare, name).toBeGreaterThan(0.07);
      expect(testShare, name).toBeLessThan(0.13);
      const train = makeTask(name, modelOf(name), { n: 2000, seed: 11, split: 'train' });
      const test = makeTask(name, modelOf(name), { n: 300, seed: 11, split: 'test' });
      const trainKeys = new Set(Array.from({ length: 2000 }, (_, i) => key(train, i)));
      for (let i = 0; i < 300; i++) {
        expect(toySplitOf(row(test, 'clean', i).slice(1))).toBe('test');
        expect(trainKeys.has(key(test, i))).toBe(false);
      }
      for (let i = 0; i < 2000; i++) expect(toySplitOf(row(train, 'clean', i).slice(1))).toBe('train');
      // without BOS a prompt keeps its split
      const testNoBos = makeTask(name, modelOf(name), { n: 50, seed: 2, split: 'test', bos: false });
      for (let i = 0; i < 50; i++) expect(toySplitOf(row(testNoBos, 'clean', i))).toBe('test');
    }
  });

  it('64 prompts take well under 10 ms (the zoo asks every training step)', () => {
    for (const name of TOY) {
      const model = modelOf(name);
      for (const split of ['train', 'test'] as const) {
        makeTask(name, model, { n: 64, split });
        const t0 = performance.now();
        for (let s = 0; s < 10; s++) makeTask(name, model, { n: 64, seed: s, split });
        expect((performance.now() - t0) / 10, `${name} ${split}`).toBeLessThan(10);
      }
    }
  });

  it('runs on a tokenizer loaded from the written tokenizer.json with the same ids', async () => {
    writeFileSync(path.join(dir, 'tokenizer.json'), wordLevelTokenizerJson(TOY_VOCABS['docstring-toy']));
    const loaded = await loadTokenizer(dir, { vocabSize: TOY_VOCABS['docstring-toy'].length });
    const a = makeTask('docstring-toy', modelOf('docstring-toy', loaded), { n: 10 });
    const b = makeTask('docstring-toy', modelOf('docstring-toy'), { n: 10 });
    expect(Array.from(a.clean.data)).toEqual(Array.from(b.clean.data));
    expect(a.texts).toEqual(b.texts);
  });

  it('a model without the zoo\'s word-level tokenizer, a vocabulary missing words, and bad options are clear errors', () => {
    for (const name of TOY) {
      const none = errorOf(() => makeTask(name, modelOf(name, null)));
      expect(none.message).toContain('no tokenizer');
      expect(none.message).toContain(`word-level tokenizer: use the zoo's toy model (e.g. --model ${name})`);
      expect(errorOf(() => makeTask(name, modelOf(name, integerTokenizer(200, 0)))).message).toMatch(/has a tokenizer of kind integer, not a word-level one/);
    }
    const wrongVocab = errorOf(() => makeTask('greater-than-toy', modelOf('greater-than-toy', tokOf('ioi-toy'))));
    expect(wrongVocab.message).toMatch(/lacks 112 of the task's words \(lasted, from, war, trip/);
    expect(errorOf(() => makeTask('docstring-toy', modelOf('docstring-toy'), { args: 5 })).message).toMatch(/option args must be an integer in 3…4/);
    expect(errorOf(() => makeTask('ioi-toy', modelOf('ioi-toy'), { split: 'dev' })).message).toMatch(/option split must be one of train, test, all/);
    expect(errorOf(() => makeTask('ioi-toy', modelOf('ioi-toy'), { order: 'abc' })).message).toMatch(/option order must be one of abba, baba, mixed/);
    expect(errorOf(() => makeTask('greater-than-toy', modelOf('greater-than-toy'), { template: 'acdc' })).message).toMatch(/has no option "template"/);
    const noBos = { cfg: { name: 'x', dVocab: 54, nCtx: 64 }, tokenizer: wordLevelTokenizer(TOY_VOCABS['ioi-toy'], { bosTokenId: null }) };
    expect(errorOf(() => makeTask('ioi-toy', noBos)).message).toMatch(/no BOS token/);
    expect(makeTask('ioi-toy', noBos, { bos: false }).clean.shape).toEqual([40, 14]);
  });
});
