'use strict';
// No billed result is lost or reported as another image's; cancel means stop within a second (the Timeout option
// as a deadline: timeouts.js). Against the simulator, made hostile where needed (silent, throttling).
const { useSimulator, imageItem } = require('../harness/setup');
const { image, zipOf } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

const ctx = useSimulator();
const credits = { resource: 'account', operation: 'getCredits' };
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });


describe('no billed result is lost', () => {
	const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

	test('a /detect whose answers are lost six times names its document, says it may be billed, and how to fetch it', async () => {
		for (let k = 0; k < 6; k++) ctx.sim.faults.once('api', 'POST', '/detect', { drop: 'after' });
		const r = await ctx.run(detect(), [imageItem(image.jpeg(2500, 61), 'lost.jpg', 'image/jpeg')], { continueOnFail: true });
		ctx.sim.faults.reset();
		const item = r.items[0].json;
		expect(item.id).toMatch(UUID);
		expect(item.description).toContain(`Document ${item.id} was submitted and may be billed: fetch it with Get Result`);
		// And it is there: the first attempt landed.
		const fetched = await ctx.run({ resource: 'image', operation: 'getResult', documentId: item.id });
		expect(fetched.items[0].json.status).toBe('done');
	});

	test('a /query that keeps failing after the submission names the document', async () => {
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { status: 500 });
		const r = await ctx.run(detect({ options: { reuseEarlierResult: false } }), [imageItem(image.jpeg(2600, 62), 'q.jpg', 'image/jpeg')]);
		ctx.sim.faults.reset();
		expect(r.error.message).toMatch(/Checking the detection status failed/);
		expect(r.error.description).toMatch(new RegExp(`Document ${UUID.source} was submitted and may be billed`));
		expect(r.error.context.documentId).toMatch(UUID);
	});

	test('a bulk batch whose wait fails names the batch on every item it held', async () => {
		const zip = zipOf([{ name: 'a.jpg', data: image.jpeg(2000, 63) }, { name: 'b.jpg', data: image.jpeg(2100, 64) }]);
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { status: 500 });
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect' }, [{ json: {}, binary: { data: { bytes: zip, fileName: 'b.zip', mimeType: 'application/zip' } } }], { continueOnFail: true });
		ctx.sim.faults.reset();
		expect(r.items[0].json.batchId).toMatch(UUID);
		expect(r.items[0].json.description).toContain(`Bulk batch ${r.items[0].json.batchId} was submitted and may be billed`);
	});

	test("a Document ID the user chose that exists already is not adopted after a retry (it may be another image's)", async () => {
		const first = image.jpeg(2700, 65);
		const mine = '11111111-2222-4333-8444-555555555555';
		const made = await ctx.run(detect({ options: { documentId: mine } }), [imageItem(first, 'first.jpg', 'image/jpeg')]);
		expect(made.items[0].json.id).toBe(mine);
		ctx.sim.faults.once('api', 'POST', '/detect', { status: 503 });
		const r = await ctx.run(detect({ options: { documentId: mine } }), [imageItem(image.jpeg(2800, 66), 'second.jpg', 'image/jpeg')]);
		expect(r.items).toHaveLength(0);
		expect(r.error.message).toMatch(/already exists/);
		expect(r.error.description).toMatch(/may have landed, or the ID was in use before/);
	});

	test.each([
		['an HTML page from a proxy', { status: 200, raw: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' }],
		['an empty body', { status: 200, raw: '', contentType: 'text/plain' }],
		['plain text', { status: 200, raw: 'OK', contentType: 'text/plain' }],
	])('a /query that answers 200 with %s is retried, not "not found"', async (_, fault) => {
		const bytes = image.jpeg(2900, 67);
		ctx.sim.faults.once('api', 'POST', '/query', fault);
		const r = await ctx.run(detect(), [imageItem(bytes, 'proxy.jpg', 'image/jpeg')]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.score).toBe(scoreFor(bytes));
	});

	test('Detect with Download Heatmap keeps its verdict when the heatmap host keeps failing', async () => {
		const bytes = image.png(3300, 41);
		for (let k = 0; k < 8; k++) ctx.sim.faults.once('storage', 'GET', /^\/heatmaps\//, { status: 500 });
		const r = await ctx.run(detect({ options: { downloadHeatmap: true } }), [imageItem(bytes, 'kept.png', 'image/png')]);
		ctx.sim.faults.reset();
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ status: 'done', score: scoreFor(bytes), heatmapError: expect.stringMatching(/downloading it failed: .*HTTP 500/) });
	});
});

describe('cancel means stop, within a second', () => {
	test('during a 429 pause of 100 s (Retry-After)', async () => {
		ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 429, retryAfter: 100 });
		const r = await ctx.run(credits, undefined, { cancelAfterMs: 300 });
		expect(r.stoppedAfterCancelMs).toBeLessThan(1000);
		expect(r.error?.message ?? '').not.toMatch(/network|offline/i);
	});

	test('during a /query that does not answer', async () => {
		for (let k = 0; k < 3; k++) ctx.sim.faults.once('api', 'POST', '/query', { delayMs: 60_000 });
		const r = await ctx.run(detect(), [imageItem(image.jpeg(2300, 51), 'slow.jpg', 'image/jpeg')], { cancelAfterMs: 600 });
		ctx.sim.faults.reset();
		expect(r.stoppedAfterCancelMs).toBeLessThan(1000);
	});

	test('while the poller waits for a result that takes a minute', async () => {
		const saved = ctx.sim.timing.resultMs;
		ctx.sim.timing.resultMs = 60_000;
		try {
			const r = await ctx.run(detect(), [imageItem(image.jpeg(2400, 52), 'wait.jpg', 'image/jpeg')], { cancelAfterMs: 400 });
			expect(r.stoppedAfterCancelMs).toBeLessThan(1000);
		} finally {
			ctx.sim.timing.resultMs = saved;
		}
	});

	test('while eight items wait out a 30 s rate-limit pause together', async () => {
		ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 429, retryAfter: 30 });
		const r = await ctx.run(credits, Array.from({ length: 8 }, () => ({ json: {} })), { cancelAfterMs: 300 });
		expect(r.stoppedAfterCancelMs).toBeLessThan(1000);
	});
});
