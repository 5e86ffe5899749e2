'use strict';
// The key goes to the configured API origin and nowhere else, redirects included; a pasted key is cleaned the same
// way for header and body; no text the node makes shows the key. Against the simulator, made hostile where needed.
const { useSimulator, imageItem, DEFAULT_KEY } = require('./harness/setup');
const { Simulator } = require('./simulator');
const { getEngine } = require('./harness/engine');
const { image, zipOf } = require('./harness/fixtures');
const { scoreFor } = require('./simulator/documents');

const ctx = useSimulator();
const credits = { resource: 'account', operation: 'getCredits' };
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });

/** Every request since `from` that reached a host other than the API, with what it carried of the key. */
const keyAway = (from) =>
	ctx.sim.requests
		.slice(from)
		.filter((q) => q.server !== 'api')
		.filter((q) => JSON.stringify(q.headers).includes(DEFAULT_KEY) || String(q.body).includes(DEFAULT_KEY));

describe('redirects', () => {
	test('a redirect from the API to another host is refused: the error names the host and says the key stayed', async () => {
		const from = ctx.sim.requests.length;
		ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 307, location: `${ctx.sim.storageUrl}/collect` });
		const r = await ctx.run(credits);
		expect(r.error.message).toMatch(new RegExp(`redirected to ${new URL(ctx.sim.storageUrl).host}, another host`));
		expect(r.error.message).toMatch(/API key stayed with the API/);
		expect(r.error.description).toMatch(/API Base URL/);
		// Not retried, and nothing at all went to the other host.
		expect(ctx.sim.requests.slice(from).map((q) => `${q.server} ${q.path}`)).toEqual(['api /check-user-credits']);
	});

	test.each([301, 302, 303, 307, 308])('a %i from /detect to another host: nothing reaches it, no key leaves', async (status) => {
		const from = ctx.sim.requests.length;
		ctx.sim.faults.once('api', 'POST', '/detect', { status, location: `${ctx.sim.storageUrl}/collect` });
		const r = await ctx.run(detect(), [imageItem(image.jpeg(2000, 7), 'a.jpg', 'image/jpeg')]);
		expect(r.error.message).toMatch(/another host/);
		expect(ctx.sim.requests.slice(from).filter((q) => q.path === '/collect')).toEqual([]);
		expect(keyAway(from)).toEqual([]);
	});

	test('a redirect within the API origin is followed, with the key', async () => {
		ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 302, location: '/check-user-credits?via=redirect' });
		const from = ctx.sim.requests.length;
		const r = await ctx.run(credits);
		expect(r.error).toBeUndefined();
		expect(typeof r.items[0].json.credits).toBe('number');
		const followed = ctx.sim.requests.slice(from).find((q) => q.query.via === 'redirect');
		expect(followed.headers.apikey).toBe(DEFAULT_KEY);
	});

	test('a redirect loop ends after five hops with an error that says so, not a network error after hundreds', async () => {
		for (let k = 0; k < 20; k++) ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 302, location: `/check-user-credits?hop=${k % 3}` });
		const from = ctx.sim.requests.length;
		const r = await ctx.run(credits);
		expect(r.error.message).toMatch(/redirected more than 5 times \(a redirect loop\?\)/);
		expect(ctx.sim.requests.length - from).toBeLessThanOrEqual(6);
		ctx.sim.faults.reset();
	});

	test('a redirect to a non-http address is refused as such', async () => {
		ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 302, location: 'file:///etc/passwd' });
		const r = await ctx.run(credits);
		expect(r.error.message).toMatch(/redirected to a file: address, which the node does not follow/);
	});
});

describe('a secure heatmap URL that redirects to storage', () => {
	let sim;
	beforeAll(async () => {
		sim = await new Simulator({ secureUrls: true }).start();
	});
	afterAll(async () => sim.close());

	test('is fetched there with a plain GET and no key of any kind', async () => {
		const engine = await getEngine();
		const credentials = { apiKey: DEFAULT_KEY, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl };
		const done = await engine.run({ parameters: detect({ options: { waitForHeatmap: true } }), items: [imageItem(image.png(3000, 11), 'h.png', 'image/png')], credentials });
		const id = done.items[0].json.id;
		sim.faults.once('api', 'POST', `/heatmap/${id}`, { status: 307, location: `${sim.storageUrl}/heatmaps/${id}.png` });
		const from = sim.requests.length;
		const r = await engine.run({ parameters: { resource: 'image', operation: 'downloadHeatmap', documentId: id }, credentials });
		expect(r.error).toBeUndefined();
		expect(r.items[0].binary.data.mimeType).toBe('image/png');
		const atStorage = sim.requests.slice(from).filter((q) => q.server === 'storage');
		expect(atStorage.map((q) => `${q.method} ${q.path}`)).toEqual([`GET /heatmaps/${id}.png`]);
		expect(atStorage[0].headers.apikey).toBeUndefined();
		expect(atStorage[0].bodyBytes).toBe(0);
	});
});

describe('the key as pasted', () => {
	test.each([
		['a trailing newline', `${DEFAULT_KEY}\n`],
		['surrounding spaces', `  ${DEFAULT_KEY} `],
		['a zero-width space and a byte-order mark', `\uFEFF${DEFAULT_KEY}\u200B`],
	])('with %s is cleaned the same way for the header and the body', async (_, pasted) => {
		const from = ctx.sim.requests.length;
		const bytes = image.jpeg(2100, 21);
		const r = await ctx.run(detect(), [imageItem(bytes, 'k.jpg', 'image/jpeg')], { credentials: { ...ctx.credentials, apiKey: pasted } });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.score).toBe(scoreFor(bytes));
		const sent = ctx.sim.requests.slice(from).filter((q) => q.server === 'api');
		expect(sent.find((q) => q.path === '/get-presigned-url').headers.apikey).toBe(DEFAULT_KEY);
		expect(JSON.parse(sent.find((q) => q.path === '/detect').body).key).toBe(DEFAULT_KEY);
	});
});

describe('no text the node makes shows the key', () => {
	test('a key pasted into Document ID is masked in the error', async () => {
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: DEFAULT_KEY });
		expect(r.error.message).toMatch(/Document ID "\*\*\*" is not a valid ID/);
		// What the node wrote (the key stays where the user typed it: in the node's own parameters).
		const written = JSON.parse(r.serialised).data.resultData.error;
		delete written.node;
		expect(JSON.stringify(written)).not.toContain(DEFAULT_KEY);
	});

	test('Get Result with Simplify off masks a key the API echoed', async () => {
		const bytes = image.jpeg(2200, 23);
		const submitted = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 'e.jpg', 'image/jpeg')]);
		const id = submitted.items[0].json.id;
		ctx.sim.faults.once('api', 'POST', '/query', { status: 200, json: { id, status: 'done', result: 50, result_details: { note: `sent with ${DEFAULT_KEY}` } } });
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id, options: { simplify: false } });
		expect(r.items[0].json.result_details.note).toBe('sent with ***');
		expect(r.serialised).not.toContain(DEFAULT_KEY);
	});
});

describe('every download is capped while it streams', () => {
	const fromUrl = (url) => detect({ inputSource: 'url', imageUrl: url });

	test('an image URL that serves 1 GiB (length not declared) stops at 10 MB, once, with a clear error', async () => {
		const url = `${ctx.sim.storageUrl}/public/huge.jpg`;
		ctx.sim.faults.once('storage', 'GET', '/public/huge.jpg', { stream: { bytes: 1024 ** 3, declare: false } });
		const from = ctx.sim.requests.length;
		const started = Date.now();
		const r = await ctx.run(fromUrl(url));
		expect(r.error.message).toMatch(/Downloading the image from its URL failed: the file is larger than 10.0 MB/);
		expect(r.error.description).toMatch(/up to 10 MB/);
		const gets = ctx.sim.requests.slice(from).filter((q) => q.path === '/public/huge.jpg');
		expect(gets).toHaveLength(1); // not retried
		expect(gets[0].streamed).toBeLessThan(64 * 1024 * 1024); // the server stopped soon after the node did
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	test('an image URL that declares 4.3 GB is refused before it is read', async () => {
		const url = `${ctx.sim.storageUrl}/public/declared.jpg`;
		ctx.sim.faults.once('storage', 'GET', '/public/declared.jpg', { stream: { bytes: 4.3e9, declare: true } });
		const from = ctx.sim.requests.length;
		const r = await ctx.run(fromUrl(url));
		expect(r.error.message).toMatch(/larger than 10.0 MB \(the server says 4100.8 MB\)/);
		const gets = ctx.sim.requests.slice(from).filter((q) => q.path === '/public/declared.jpg');
		expect(gets).toHaveLength(1);
		expect(gets[0].streamed).toBeLessThan(64 * 1024 * 1024);
	});

	test('a heatmap that never ends stops at 25 MB', async () => {
		const bytes = image.png(3000, 31);
		const done = await ctx.run(detect({ options: { waitForHeatmap: true } }), [imageItem(bytes, 'big.png', 'image/png')]);
		const id = done.items[0].json.id;
		ctx.sim.faults.once('storage', 'GET', `/heatmaps/${id}.png`, { stream: { bytes: 1024 ** 3, declare: false } });
		const r = await ctx.run({ resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toMatch(/Downloading the heatmap failed: the file is larger than 25.0 MB/);
	});

	test('a heatmap served as an HTML page with 200 is not saved as .png: the verdict stays, with heatmapError', async () => {
		const bytes = image.png(3100, 32);
		const submitted = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 'page.png', 'image/png')]);
		const id = submitted.items[0].json.id;
		// Get Result waits for the heatmap; then Detect-like download of it gets a proxy's page.
		await ctx.run({ resource: 'image', operation: 'getResult', documentId: id, options: { waitForHeatmap: true } });
		ctx.sim.faults.once('storage', 'GET', `/heatmaps/${id}.png`, { status: 200, raw: '<html><body>Bad gateway</body></html>', contentType: 'text/html' });
		const r = await ctx.run({ resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toMatch(/has no heatmap: the server sent text\/html that is not an image/);

		const detectBytes = image.png(3200, 33);
		ctx.sim.faults.once('storage', 'GET', /^\/heatmaps\//, { status: 200, raw: '<html>oops</html>', contentType: 'text/html' });
		const d = await ctx.run(detect({ options: { downloadHeatmap: true } }), [imageItem(detectBytes, 'keep.png', 'image/png')]);
		expect(d.error).toBeUndefined();
		expect(d.items[0].json).toMatchObject({ score: scoreFor(detectBytes), heatmapError: expect.stringMatching(/not an image/) });
		expect(d.items[0].binary.heatmap).toBeUndefined();
	});
});

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
		const r = await ctx.run(detect(), [imageItem(image.jpeg(2600, 62), 'q.jpg', 'image/jpeg')]);
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
		const r = await ctx.run(detect({ inputSource: 'url', imageUrl: url, options: { timeout: 2 } }));
		ctx.sim.faults.reset();
		expect(Date.now() - started).toBeLessThan(2000 + 1500);
		expect(r.error.message).toMatch(/Downloading the image from its URL failed/);
		expect(r.error.message).toMatch(/no answer .* in time|time this item has ran out/);
	});

	test('a /query that trickles ends Get Result at its Timeout', async () => {
		const bytes = image.jpeg(3000, 71);
		const submitted = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 't.jpg', 'image/jpeg')]);
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { trickle: { everyMs: 200 } });
		const started = Date.now();
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: submitted.items[0].json.id, options: { timeout: 2 } });
		ctx.sim.faults.reset();
		expect(Date.now() - started).toBeLessThan(2000 + 2500);
		expect(r.error).toBeDefined();
	});

	test('a /query that answers 429 with Retry-After: 12 past a 2 s Timeout fails at once, naming the document', async () => {
		for (let k = 0; k < 10; k++) ctx.sim.faults.once('api', 'POST', '/query', { status: 429, retryAfter: 12 });
		const started = Date.now();
		const r = await ctx.run(detect({ options: { timeout: 2 } }), [imageItem(image.jpeg(3100, 72), 'r.jpg', 'image/jpeg')]);
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
			const r = await engine.run({ parameters: { resource: 'image', operation: 'downloadHeatmap', documentId: id, options: { timeout: 3 } }, credentials });
			expect(r.error.message).toMatch(/Timed out after 3 s waiting for its heatmap/);
			const posts = secure.requests.slice(from).filter((q) => q.path === `/heatmap/${id}`).length;
			// 0.5 s, then 0.75 s, 1.1 s, ...: a few, where a tight loop made over a hundred.
			expect(posts).toBeGreaterThanOrEqual(2);
			expect(posts).toBeLessThanOrEqual(5);
		} finally {
			useTiming(FAST);
			await secure.close();
		}
	});
});
