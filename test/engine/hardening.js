'use strict';
// The key goes to the configured API origin and nowhere else, redirects included; a pasted key is cleaned the same
// way for header and body; no text the node makes shows the key; every download is capped while it streams.
// Against the simulator, made hostile where needed (redirects, endless bodies, pages instead of files).
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { Simulator } = require('../simulator');
const { getEngine } = require('../harness/engine');
const { image, zipOf } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

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
		const bytes = image.jpeg(2100, 21 + pasted.length); // another image each time, so none is a reused result
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

describe('errors name the real cause and the real fix', () => {
	const fromUrl = (url) => detect({ inputSource: 'url', imageUrl: url });

	test("a storage upload refused with 403 shows storage's own reason and talks about the upload, not the key", async () => {
		ctx.sim.faults.once('storage', 'PUT', /./, {
			status: 403,
			raw: '<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>',
			contentType: 'application/xml',
		});
		const r = await ctx.run(detect(), [imageItem(image.jpeg(2000, 81), 's.jpg', 'image/jpeg')]);
		expect(r.error.message).toMatch(/Uploading the file to storage failed: SignatureDoesNotMatch: The request signature we calculated does not match \(HTTP 403\)/);
		expect(r.error.description).toMatch(/upload address may have expired/);
		expect(r.error.description).not.toMatch(/API key|credits/);
	});

	test.each([
		[404, /has no file at that address: check the Image URL/],
		[401, /refused to serve the image \(it needs a login, or blocks downloads\)/],
	])('an image URL answering %i is about that URL, not the document ID or the key', async (status, hint) => {
		const url = `${ctx.sim.storageUrl}/public/missing-${status}.jpg`;
		ctx.sim.faults.once('storage', 'GET', `/public/missing-${status}.jpg`, { status, json: { detail: 'nope' } });
		const r = await ctx.run(fromUrl(url));
		expect(r.error.description).toMatch(hint);
		expect(r.error.description).not.toMatch(/document ID|API key/);
	});

	test.each([
		['a file: address', 'file:///etc/passwd'],
		['a relative path', '/heatmaps/x.png'],
		['no address at all', 'not a url'],
	])('a heatmap address that is %s is said to be so, not retried as a network error', async (_, heatmapUrl) => {
		const bytes = image.jpeg(2000, 82);
		const submitted = await ctx.run(detect({ waitForResult: false }), [imageItem(bytes, 'u.jpg', 'image/jpeg')]);
		const id = submitted.items[0].json.id;
		ctx.sim.faults.once('api', 'POST', '/query', { status: 200, json: { id, status: 'done', result: 40, result_details: { heatmap_status: 'ready', heatmap_url: heatmapUrl } } });
		const from = ctx.sim.requests.length;
		const r = await ctx.run({ resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toMatch(/as its address, which is not a web address/);
		expect(ctx.sim.requests.slice(from).map((q) => q.path)).toEqual(['/query']);
	});
});
