'use strict';
// The Timeout option is a deadline for the whole item, and every wait ends. Against the simulator, made hostile
// where needed (trickling, silent, throttling).
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { Simulator } = require('../simulator');
const { getEngine } = require('../harness/engine');
const { image } = require('../harness/fixtures');

const ctx = useSimulator();
const credits = { resource: 'account', operation: 'getCredits' };
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });


describe('every wait ends: the Timeout option is a deadline for the whole item', () => {
	const { useTiming, FAST, PRODUCTION } = require('../harness/engine');

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
