'use strict';
// Never billed twice for the same image: Detect's document ID is derived from the key, the image and the options
// that change the result, so a re-run finds the earlier document instead of submitting (and paying) again.
const path = require('path');
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });
const { derivedDocumentId } = require(path.resolve(__dirname, '..', '..', 'dist', 'nodes', 'UndetectableImage', 'api', 'documentIds.js'));

/** What reached the simulator since `from`: uploads (PUT to storage), submissions, queries. */
function traffic(from) {
	const seen = ctx.sim.requests.slice(from);
	return {
		uploads: seen.filter((q) => q.server === 'storage' && q.method === 'PUT').length,
		detects: seen.filter((q) => q.path === '/detect').length,
		queries: seen.filter((q) => q.path === '/query').length,
	};
}

test('the derived ID: the same for the same key, image and options; another for any of them changed', () => {
	const bytes = image.jpeg(2000, 1);
	const body = { generate_preview: true, generate_analysis_details: true, generate_heatmap_overlayed: true };
	const id = derivedDocumentId(DEFAULT_KEY, bytes, body, 0);
	expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
	expect(derivedDocumentId(DEFAULT_KEY, Buffer.from(bytes), { ...body }, 0)).toBe(id);
	const others = [
		derivedDocumentId('another-key', bytes, body, 0),
		derivedDocumentId(DEFAULT_KEY, image.jpeg(2000, 2), body, 0),
		derivedDocumentId(DEFAULT_KEY, bytes, { ...body, generate_preview: false }, 0),
		derivedDocumentId(DEFAULT_KEY, bytes, { ...body, model: 'sheerid' }, 0),
		derivedDocumentId(DEFAULT_KEY, bytes, body, 1),
	];
	expect(new Set([id, ...others]).size).toBe(6);
	// What does not change the result does not change the ID.
	expect(derivedDocumentId(DEFAULT_KEY, bytes, { ...body, email: 'a@b.c', user_agent: 'x' }, 0)).toBe(id);
});

test('a re-run of the same images spends no credit and makes no upload: one /query per image, reused: true', async () => {
	const images = Array.from({ length: 6 }, (_, k) => image.jpeg(2000 + k * 100, 900 + k));
	const items = () => images.map((b, k) => imageItem(b, `r${k}.jpg`, 'image/jpeg'));
	const first = await ctx.run(detect(), items());
	expect(first.items.map((i) => i.json.reused)).toEqual(images.map(() => false));

	const credits = ctx.sim.credits();
	const from = ctx.sim.requests.length;
	const again = await ctx.run(detect(), items());
	expect(again.items.map((i) => i.json.reused)).toEqual(images.map(() => true));
	expect(again.items.map((i) => i.json.id)).toEqual(first.items.map((i) => i.json.id));
	expect(again.items.map((i) => i.json.score)).toEqual(images.map(scoreFor));
	expect(ctx.sim.credits()).toBe(credits);
	expect(traffic(from)).toEqual({ uploads: 0, detects: 0, queries: images.length });
});

test('the same image with other options is other work: a new document and a credit', async () => {
	const bytes = image.jpeg(2500, 950);
	await ctx.run(detect(), [imageItem(bytes, 'o.jpg', 'image/jpeg')]);
	const credits = ctx.sim.credits();
	const r = await ctx.run(detect({ options: { generatePreview: false } }), [imageItem(bytes, 'o.jpg', 'image/jpeg')]);
	expect(r.items[0].json.reused).toBe(false);
	expect(ctx.sim.credits()).toBe(credits - 1);
});

test('the same image twice in one run lands on one document and one credit', async () => {
	const bytes = image.jpeg(2600, 951);
	const credits = ctx.sim.credits();
	const r = await ctx.run(detect(), [imageItem(bytes, 'a.jpg', 'image/jpeg'), imageItem(bytes, 'b.jpg', 'image/jpeg')]);
	expect(r.error).toBeUndefined();
	expect(r.items[0].json.id).toBe(r.items[1].json.id);
	expect(r.items.map((i) => i.json.score)).toEqual([scoreFor(bytes), scoreFor(bytes)]);
	expect(ctx.sim.credits()).toBe(credits - 1);
});

test('a document still being made is waited for, not submitted again', async () => {
	const bytes = image.jpeg(2700, 952);
	const pending = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 'p.jpg', 'image/jpeg')]);
	const credits = ctx.sim.credits();
	const from = ctx.sim.requests.length;
	const r = await ctx.run(detect(), [imageItem(bytes, 'p.jpg', 'image/jpeg')]);
	expect(r.items[0].json).toMatchObject({ id: pending.items[0].json.id, status: 'done', reused: true, score: scoreFor(bytes) });
	expect(traffic(from).detects).toBe(0);
	expect(ctx.sim.credits()).toBe(credits);
});

test('a document that failed does not block the image: the next ID of its sequence is submitted, and the output says so', async () => {
	const bytes = image.jpeg(2800, 953, 'SIM:FAIL');
	const first = await ctx.run(detect(), [imageItem(bytes, 'f.jpg', 'image/jpeg')], { continueOnFail: true });
	expect(first.items[0].json.error).toMatch(/Detection failed/);
	const r = await ctx.run(detect(), [imageItem(bytes, 'f.jpg', 'image/jpeg')], { continueOnFail: true });
	expect(r.items[0].json.id).toBe(derivedDocumentId(DEFAULT_KEY, bytes, { generate_preview: true, generate_analysis_details: true, generate_heatmap_overlayed: true }, 1));
	expect(r.items[0].json.id).not.toBe(first.items[0].json.id);
	expect(r.items[0].json.description ?? '').toMatch(/was submitted and may be billed/);
});

test('Reuse Earlier Result off: a new random document and a new credit every time', async () => {
	const bytes = image.jpeg(2900, 954);
	const a = await ctx.run(detect({ options: { reuseEarlierResult: false } }), [imageItem(bytes, 'n.jpg', 'image/jpeg')]);
	const credits = ctx.sim.credits();
	const b = await ctx.run(detect({ options: { reuseEarlierResult: false } }), [imageItem(bytes, 'n.jpg', 'image/jpeg')]);
	expect(b.items[0].json.reused).toBe(false);
	expect(b.items[0].json.id).not.toBe(a.items[0].json.id);
	expect(ctx.sim.credits()).toBe(credits - 1);
});
