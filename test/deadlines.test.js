'use strict';
// No billed result is lost or reported as another image's; cancel means stop within a second; the Timeout option is
// a deadline for the whole item. Against the simulator, made hostile where needed (trickling, silent, throttling).
const { useSimulator, imageItem, DEFAULT_KEY } = require('./harness/setup');
const { Simulator } = require('./simulator');
const { getEngine } = require('./harness/engine');
const { image, zipOf } = require('./harness/fixtures');
const { scoreFor } = require('./simulator/documents');

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

describe('every wait ends: the Timeout option is a deadline for the whole item', () => {
	const { useTiming, FAST, PRODUCTION } = require('./harness/engine');

	test('an image URL that trickles a byte every 200 ms ends at the Timeout, not when the server stops', async () => {
		const url = `${ctx.sim.storageUrl}/public/trickle.jpg`;
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('storage', 'GET', '/public/trickle.jpg', { trickle: { everyMs: 200, contentType: 'image/jpeg' } });
		const started = Date.now();
		const r = await ctx.run(detect({ inputSource: 'url', imageUrl: url, options: { timeout: 1 } }));
		ctx.sim.faults.reset();
		expect(Date.now() - started).toBeLessThan(1000 + 1500);
		expect(r.error.message).toMatch(/Downloading the image from its URL failed/);
		expect(r.error.message).toMatch(/no answer .* in time|time this item has ran out/);
	});

	test('a /query that trickles ends Get Result at its Timeout', async () => {
		const bytes = image.jpeg(3000, 71);
		const submitted = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 't.jpg', 'image/jpeg')]);
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { trickle: { everyMs: 200 } });
		const started = Date.now();
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: submitted.items[0].json.id, options: { timeout: 1 } });
		ctx.sim.faults.reset();
		expect(Date.now() - started).toBeLessThan(1000 + 2500);
		expect(r.error).toBeDefined();
	});

	test('a /query that answers 429 with Retry-After: 12 past a 2 s Timeout fails at once, naming the document', async () => {
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { status: 429, retryAfter: 12 });
		const started = Date.now();
		// Reuse off, so the first /query is the wait after the submission (not the check before the upload).
		const r = await ctx.run(detect({ options: { timeout: 2, reuseEarlierResult: false } }), [imageItem(image.jpeg(3100, 72), 'r.jpg', 'image/jpeg')]);
		ctx.sim.faults.reset();
		expect(Date.now() - started).toBeLessThan(2500);
		expect(r.error.description).toMatch(/asked to wait 12 s .* past the time this item has/);
		expect(r.error.description).toMatch(/Document [0-9a-f-]{36} was submitted and may be billed/);
	});

	test('Check Credits against an API that never answers ends within its fixed bound', async () => {
		useTiming({ ...FAST, checkCreditsBoundMs: 1500 });
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'GET', '/check-user-credits', { delayMs: 60_000 });
		const started = Date.now();
		try {
			const r = await ctx.run(credits);
			expect(r.error.message).toMatch(/Checking the credits failed/);
		} finally {
			useTiming(FAST);
			ctx.sim.faults.reset();
		}
		expect(Date.now() - started).toBeLessThan(1500 + 1000);
	});

	test('a heatmap that stays at 202 is asked again at a growing interval, not in a tight loop', async () => {
		const secure = await new Simulator({ secureUrls: true }).start();
		const engine = await getEngine();
		const credentials = { apiKey: DEFAULT_KEY, baseUrl: secure.apiUrl, storageBaseUrl: secure.storageUrl };
		try {
			const done = await engine.run({ parameters: detect({ options: { waitForHeatmap: true } }), items: [imageItem(image.png(3000, 73), 'p.png', 'image/png')], credentials });
			const id = done.items[0].json.id;
			for (let k = 0; k < 200; k++) secure.faults.once('api', 'POST', `/heatmap/${id}`, { status: 202, json: { message: 'Heatmap generation in progress' } });
			useTiming(PRODUCTION);
			const from = secure.requests.length;
			const r = await engine.run({ parameters: { resource: 'image', operation: 'downloadHeatmap', documentId: id, options: { timeout: 2 } }, credentials });
			expect(r.error.message).toMatch(/Timed out after 2 s waiting for its heatmap/);
			const posts = secure.requests.slice(from).filter((q) => q.path === `/heatmap/${id}`).length;
			// 0.5 s, then 0.75 s, 1.1 s, ...: a few, where a tight loop made over a hundred.
			expect(posts).toBeGreaterThanOrEqual(2);
			expect(posts).toBeLessThanOrEqual(4);
		} finally {
			useTiming(FAST);
			await secure.close();
		}
	});
});
