// What the network and the API throw at the node: 429s, 5xx, dropped connections. No item is lost, no credit is
// spent twice, and no error shows the key.
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { image, zipOf } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });
const jpegItems = (n, seed) => Array.from({ length: n }, (_, k) => imageItem(image.jpeg(1100 + k, seed + k), `f${k}.jpg`, 'image/jpeg'));

/** Everything the storage server saw, and everything n8n kept of a run, as text. */
const storageText = (from) => JSON.stringify(ctx.sim.requests.slice(from).filter((q) => q.server === 'storage'));

test('50 detections under 20% 429s, 10% 5xx and 5% dropped connections all end with their right result', async () => {
	const items = jpegItems(50, 1000);
	const from = ctx.sim.requests.length;
	const submissionsBefore = ctx.sim.submissions.length;
	const creditsBefore = ctx.sim.credits();
	// Short pauses: this test is about what survives the faults; the next one is about how long a 429 pauses.
	ctx.sim.faults.setRandom({ rate429: 0.2, rate5xx: 0.1, rateDrop: 0.05, retryAfter: 0.05, seed: 42 });
	const r = await ctx.run(detect({ options: { concurrency: 10 } }), items);
	ctx.sim.faults.reset();

	expect(r.error).toBeUndefined();
	expect(r.items).toHaveLength(50);
	r.items.forEach((item, k) => {
		expect(item.pairedItem).toEqual({ item: k });
		expect(item.json.score).toBe(scoreFor(items[k].binary.data.bytes));
	});
	// The faults really happened...
	const seen = ctx.sim.requests.slice(from);
	expect(seen.filter((q) => q.status === 429).length).toBeGreaterThan(20);
	expect(seen.filter((q) => q.status >= 500).length).toBeGreaterThan(5);
	expect(seen.filter((q) => q.status === null).length).toBeGreaterThan(3); // dropped
	// ...and no image was submitted or billed twice.
	const submissions = ctx.sim.submissions.slice(submissionsBefore);
	expect(submissions).toHaveLength(50);
	expect(new Set(submissions.map((s) => s.id)).size).toBe(50);
	expect(creditsBefore - ctx.sim.credits()).toBe(50);
	expect(storageText(from)).not.toContain(DEFAULT_KEY);
	expect(r.serialised).not.toContain(DEFAULT_KEY);
}, 240_000);

test('a /detect whose answer was lost is not submitted again: the retry finds its id and polls it', async () => {
	const bytes = image.jpeg(3000, 1101);
	ctx.sim.faults.once('api', 'POST', '/detect', { drop: 'after' });
	const submissionsBefore = ctx.sim.submissions.length;
	const creditsBefore = ctx.sim.credits();
	const from = ctx.sim.requests.length;
	const r = await ctx.run(detect(), [imageItem(bytes, 'a.jpg', 'image/jpeg')]);
	expect(r.error).toBeUndefined();
	expect(r.items[0].json.score).toBe(scoreFor(bytes));
	const detects = ctx.sim.requests.slice(from).filter((q) => q.path === '/detect');
	expect(detects).toHaveLength(2);
	expect(JSON.parse(detects[0].body).id).toBe(JSON.parse(detects[1].body).id);
	expect(detects[1].status).toBe(400); // "already exists": the first one landed
	expect(ctx.sim.submissions.length - submissionsBefore).toBe(1);
	expect(creditsBefore - ctx.sim.credits()).toBe(1);
});

test('a 429 pauses every request of the run for as long as Retry-After says', async () => {
	ctx.sim.faults.once('api', 'POST', '/query', { status: 429, retryAfter: 1 });
	const from = ctx.sim.requests.length;
	const r = await ctx.run(detect(), jpegItems(5, 1200));
	expect(r.error).toBeUndefined();
	const seen = ctx.sim.requests.slice(from);
	const limited = seen.find((q) => q.status === 429);
	// Requests already on their way when the 429 came back still arrive; nothing new is sent during the pause.
	const during = seen.filter((q) => q.at > limited.at + 50 && q.at < limited.at + 950);
	expect(during).toEqual([]);
	expect(seen.filter((q) => q.at >= limited.at + 950).length).toBeGreaterThan(0);
});

test('other 4xx are never retried', async () => {
	ctx.sim.faults.once('api', 'POST', '/detect', { status: 400, json: { detail: 'Unsupported image type' } });
	const from = ctx.sim.requests.length;
	const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1301), 'a.jpg', 'image/jpeg')]);
	expect(r.error.message).toBe('Submitting the image for detection failed: Unsupported image type (HTTP 400)');
	expect(r.error.description).toMatch(/Use JPG, PNG/);
	expect(ctx.sim.requests.slice(from).filter((q) => q.path === '/detect')).toHaveLength(1);
});

test('5xx after every retry: the error says it tried, and what to do', async () => {
	for (let n = 0; n < 6; n++) ctx.sim.faults.once('api', 'GET', '/get-presigned-url', { status: 503 });
	const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1302), 'a.jpg', 'image/jpeg')]);
	expect(r.error.message).toBe('Requesting an upload URL failed: Internal Server Error (HTTP 503)');
	expect(r.error.description).toMatch(/temporarily offline for maintenance.*still failed after 6 attempts/);
}, 60_000);

test('429 after every retry names the Concurrency option', async () => {
	for (let n = 0; n < 10; n++) ctx.sim.faults.once('api', 'GET', '/check-user-credits', { status: 429, retryAfter: 0 });
	const r = await ctx.run({ resource: 'account', operation: 'getCredits' });
	expect(r.error.message).toBe('Checking the credits failed: Too Many Requests (HTTP 429)');
	expect(r.error.description).toMatch(/Lower the Concurrency option/);
});

describe('/bulk-upload takes no id, so a repeat could bill the ZIP twice', () => {
	const zip = () => imageItem(zipOf([{ name: 'a.jpg', data: image.jpeg(2000, 1401) }, { name: 'b.jpg', data: image.jpeg(2000, 1402) }]), 'z.zip', 'application/zip');

	test('429 and 503 (not accepted) are retried', async () => {
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { status: 429, retryAfter: 0 });
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { status: 503 });
		const before = ctx.sim.submissions.length;
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect' }, [zip()]);
		expect(r.error).toBeUndefined();
		expect(r.items.filter((i) => i.json.status === 'done')).toHaveLength(2);
		expect(ctx.sim.submissions.length - before).toBe(1);
	});

	test('a dropped answer is not retried: the error says what to check', async () => {
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { drop: 'after' });
		const before = ctx.sim.submissions.length;
		const from = ctx.sim.requests.length;
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect' }, [zip()]);
		expect(r.error.message).toMatch(/Submitting the ZIP for bulk detection failed: the connection to the Undetectable AI API failed/);
		expect(r.error.description).toMatch(/may have reached the service.*did not send it again.*Check Credits/);
		expect(ctx.sim.requests.slice(from).filter((q) => q.path === '/bulk-upload')).toHaveLength(1);
		expect(ctx.sim.submissions.length - before).toBe(1);
	});

	test('a 500 is not retried', async () => {
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { status: 500 });
		const from = ctx.sim.requests.length;
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect' }, [zip()]);
		expect(r.error.message).toMatch(/\(HTTP 500\)/);
		expect(ctx.sim.requests.slice(from).filter((q) => q.path === '/bulk-upload')).toHaveLength(1);
	});
});

describe('no key in what n8n shows', () => {
	test('an API error that quotes the key shows it masked, in the error and in Continue On Fail items', async () => {
		const reply = { status: 400, json: { detail: `Key ${DEFAULT_KEY} is not allowed for this model` } };
		ctx.sim.faults.once('api', 'POST', '/detect', reply);
		const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1501), 'a.jpg', 'image/jpeg')]);
		expect(r.error.message).toBe('Submitting the image for detection failed: Key *** is not allowed for this model (HTTP 400)');
		expect(JSON.stringify(r.error)).not.toContain(DEFAULT_KEY);
		expect(r.serialised).not.toContain(DEFAULT_KEY);

		ctx.sim.faults.once('api', 'POST', '/detect', reply);
		const c = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1502), 'a.jpg', 'image/jpeg')], { continueOnFail: true });
		expect(c.items[0].json.error).toContain('***');
		expect(c.serialised).not.toContain(DEFAULT_KEY);
	});

	test('a failed request of each kind leaves no key in the error n8n keeps', async () => {
		const cases = [
			() => ctx.sim.faults.once('api', 'POST', '/detect', { status: 422, json: { detail: [{ type: 'missing', loc: ['body', 'url'], msg: 'Field required', input: { key: DEFAULT_KEY } }] } }),
			() => ctx.sim.faults.once('api', 'POST', '/detect', { status: 403, json: { detail: 'User verification failed' } }),
			() => {
				for (let n = 0; n < 6; n++) ctx.sim.faults.once('api', 'POST', '/detect', { status: 504 });
			},
		];
		for (const arrange of cases) {
			arrange();
			const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1503), 'a.jpg', 'image/jpeg')]);
			expect(r.error).toBeDefined();
			const shown = JSON.stringify({ ...r.error, message: r.error.message, description: r.error.description, stack: r.error.stack, cause: r.error.cause });
			expect(shown).not.toContain(DEFAULT_KEY);
			expect(r.serialised).not.toContain(DEFAULT_KEY);
		}
	}, 60_000);

	test('a connection refused by the API: retried, then a clear error with no key', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, undefined, {
			credentials: { ...ctx.credentials, baseUrl: 'http://127.0.0.1:9' },
		});
		expect(r.error.message).toBe('Checking the credits failed: the connection to the Undetectable AI API failed (connection refused)');
		expect(r.error.description).toMatch(/API Base URL in the credential/);
		expect(r.serialised).not.toContain(DEFAULT_KEY);
	}, 60_000);
});

describe("each error of the reference's table, as the user reads it", () => {
	const cases = [
		[403, 'User verification failed', /Check the API key in the 'Undetectable AI Image Detector API' credential/],
		[403, 'Not enough credits', /Buy more credits/],
		[400, 'Input URL cannot be empty', /Storage Base URL/],
		[400, 'Input email is empty', /set the Email option/],
		[400, 'Unsupported image type', /Use JPG, PNG, WebP/],
		[400, 'File size is too small', /at least 1 KB/],
		[400, 'File size exceeds limit of 8MB', /Compress or resize the image: the message states the limit/],
		[400, 'Invalid file type', /do not match its extension/],
		[500, 'File metadata could not be fetched', /could not be read by the service/],
		[400, 'Document is not a bulk upload (image-zip) result', /single image, not a ZIP batch/],
		[400, 'User not found', /request was invalid/],
		[401, 'Unauthorized', /Authentication failed/],
		[405, 'Method Not Allowed', /API Base URL/],
		[406, 'Not Acceptable', /could not answer in JSON/],
		[410, 'Gone', /removed/],
	];
	test.each(cases)('%i %s', async (status, detail, hint) => {
		ctx.sim.faults.once('api', 'POST', '/detect', { status, json: { detail } });
		const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1600), 'a.jpg', 'image/jpeg')]);
		expect(r.error.message).toBe(`Submitting the image for detection failed: ${detail} (HTTP ${status})`);
		expect(r.error.description).toMatch(hint);
	});

	test('422 lists the fields the API rejected', async () => {
		ctx.sim.faults.once('api', 'POST', '/detect', {
			status: 422,
			json: { detail: [{ type: 'bool_parsing', loc: ['body', 'generate_preview'], msg: 'Input should be a valid boolean' }, { type: 'missing', loc: ['body', 'url'], msg: 'Field required' }] },
		});
		const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 1601), 'a.jpg', 'image/jpeg')]);
		expect(r.error.message).toBe('Submitting the image for detection failed: generate_preview: Input should be a valid boolean; url: Field required (HTTP 422)');
		expect(r.error.description).toMatch(/rejected the request body/);
	});
});
