// Get Result, Check Credits, the credential test, and the API's own errors as a user reads them.
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const POOR_KEY = 'sim-key-poor-0001';
const ctx = useSimulator({ keys: { [DEFAULT_KEY]: 1000, [POOR_KEY]: 0 } });

async function submitted(bytes, extra = {}) {
	const r = await ctx.run({ resource: 'image', operation: 'detect', waitForResult: false, ...extra }, [imageItem(bytes, 'a.jpg', 'image/jpeg')]);
	expect(r.error).toBeUndefined();
	return r.items[0].json.id;
}

describe('Get Result', () => {
	test('waits for a pending document and gives its result', async () => {
		const bytes = image.jpeg(3000, 201);
		const id = await submitted(bytes);
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id });
		expect(r.items[0].json).toMatchObject({ id, status: 'done', score: scoreFor(bytes), verdict: verdictFor(scoreFor(bytes)) });
	});

	test('without waiting, gives the state as it is now', async () => {
		const saved = ctx.sim.timing.resultMs;
		ctx.sim.timing.resultMs = 3000;
		try {
			const id = await submitted(image.jpeg(3000, 202));
			const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id, waitForResult: false });
			expect(r.items[0].json).toMatchObject({ id, score: null, verdict: null });
			expect(['pending', 'analyzing']).toContain(r.items[0].json.status);
		} finally {
			ctx.sim.timing.resultMs = saved;
		}
	});

	test('an unknown id (the API answers 200 with null) is a clear "not found"', async () => {
		const id = '11111111-2222-4333-8444-555555555555';
		for (const waitForResult of [true, false]) {
			const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id, waitForResult });
			expect(r.error.message).toBe(`No document with ID ${id} was found`);
			expect(r.error.description).toMatch(/same API account/);
		}
	});

	test('a failed document is reported as a result, not an error', async () => {
		const id = await submitted(image.jpeg(3000, 203, 'SIM:FAIL'));
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ id, status: 'failed', score: null });
		expect(r.items[0].json.error).toMatch(/Image processing failed/);
	});

	test('an id mapped from an earlier node with an expression', async () => {
		const bytes = image.jpeg(3000, 204);
		const id = await submitted(bytes);
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: '={{ $json.docId }}' }, [{ json: { docId: ` ${id.toUpperCase()} ` } }]);
		expect(r.items[0].json).toMatchObject({ id, score: scoreFor(bytes) });
	});
});

describe('Check Credits', () => {
	test('gives credits with the base/boost split when the API has it', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' });
		const left = ctx.sim.credits();
		expect(r.items[0].json).toEqual({ credits: left, baseCredits: left - 100, boostCredits: 100 });
		expect(ctx.sim.requests.at(-1).headers.apikey).toBe(DEFAULT_KEY);
	});

	test('one item per input item, paired', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, [{ json: {} }, { json: {} }]);
		expect(r.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});

	test('the credential test asks GET /check-user-credits with the apikey header', async () => {
		const credentialType = ctx.engine.credentialType;
		// The Test button's request: no redirect is followed (one fails the test instead of carrying the key away).
		expect(credentialType.test.request).toMatchObject({ url: '/check-user-credits', method: 'GET', disableFollowRedirect: true });
		// The header is the key cleaned of white space and invisible characters, as the node cleans the body's.
		const header = credentialType.authenticate.properties.headers.apikey;
		expect(header).toMatch(/^=\{\{\$credentials\.apiKey\.replace\(/);
		const expression = header.slice(3, -2).replace('$credentials.apiKey', 'key');
		expect(new Function('key', `return ${expression}`)(' ab\u200Bc\n')).toBe('abc');
	});
});

describe("the API's own errors, as the user reads them", () => {
	test('a wrong key: "User verification failed" and where to fix it', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, undefined, {
			credentials: { ...ctx.credentials, apiKey: 'wrong-key-123' },
		});
		expect(r.error.message).toBe('Checking the credits failed: User verification failed (HTTP 403)');
		expect(r.error.description).toMatch(/Check the API key in the 'Undetectable AI Image Detector API' credential/);
	});

	test('not enough credits: the reason, the balance, and what to do; nothing else is tried', async () => {
		const from = ctx.sim.requests.length;
		const r = await ctx.run({ resource: 'image', operation: 'detect' }, [imageItem(image.jpeg(3000, 211), 'a.jpg', 'image/jpeg')], {
			credentials: { ...ctx.credentials, apiKey: POOR_KEY },
		});
		expect(r.error.message).toBe('Submitting the image for detection failed: Not enough credits (HTTP 403)');
		expect(r.error.description).toMatch(/Buy more credits/);
		expect(r.error.description).toMatch(/You have 0 credits; this request needs 1/);
		expect(ctx.sim.requests.slice(from).filter((q) => q.path === '/detect')).toHaveLength(1);
	});

	test("a 400 from the API carries the API's reason in the message", async () => {
		// The node checks the model's shape; the API knows which instances exist.
		const r = await ctx.run({ resource: 'image', operation: 'detect', options: { model: 'unknown-instance/generic' } }, [
			imageItem(image.jpeg(3000, 212), 'a.jpg', 'image/jpeg'),
		]);
		expect(r.error.message).toBe('Submitting the image for detection failed: Invalid instance_id: unknown-instance (HTTP 400)');
		expect(r.error.description).toMatch(/unknown dedicated instance/);
	});

	test('an own document id that exists already', async () => {
		const id = await submitted(image.jpeg(3000, 213));
		const r = await ctx.run({ resource: 'image', operation: 'detect', options: { documentId: id } }, [imageItem(image.jpeg(3000, 214), 'a.jpg', 'image/jpeg')]);
		expect(r.error.message).toMatch(/already exists \(HTTP 400\)/);
		expect(r.error.description).toMatch(/Leave the Document ID option empty/);
	});

	test('an API base URL that points at the wrong place: 404 with a hint at the credential', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, undefined, {
			credentials: { ...ctx.credentials, baseUrl: `${ctx.sim.apiUrl}/v2` },
		});
		expect(r.error.message).toBe('Checking the credits failed: Not Found (HTTP 404)');
		expect(r.error.description).toMatch(/API Base URL in the credential/);
	});

	test('a storage base URL that points at the wrong place: the API cannot read the upload', async () => {
		const r = await ctx.run({ resource: 'image', operation: 'detect' }, [imageItem(image.jpeg(3000, 215), 'a.jpg', 'image/jpeg')], {
			credentials: { ...ctx.credentials, storageBaseUrl: 'http://127.0.0.1:9/elsewhere' },
		});
		expect(r.error.message).toMatch(/File metadata could not be fetched/);
		expect(r.error.description).toMatch(/Storage Base URL/);
	});
});
