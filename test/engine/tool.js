// The node as an AI agent's tool, through n8n's engine: what the Tool variant offers a model (its defaults, the
// arguments n8n builds from its $fromAI expressions, its description), what the model reads back (compact
// results, and every failure as an answer with its fix), and the addresses a model may not make n8n fetch.
const { useSimulator, DEFAULT_KEY } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');
const { wf } = require('../harness/engine');

const ctx = useSimulator();
/** A tool call: the model's arguments are the one input item, as the agent's engine request hands them over. */
const call = (parameters, args, extra = {}) => ctx.run({ resource: 'image', ...parameters }, [{ json: args }], { tool: true, ...extra });

/** What n8n offers the model for a tool node: the arguments from its $fromAI calls, and its description. */
function offered(node, nodeType) {
	const args = [];
	wf.traverseNodeParameters(node.parameters, args);
	return { args, description: wf.NodeHelpers.getToolDescriptionForNode(node, nodeType) };
}

describe('what the Tool variant offers a model', () => {
	test('Detect defaults to an image URL that the model fills in; the plain node keeps Binary File', async () => {
		const bytes = image.png(3000, 1);
		const url = ctx.sim.publish('cat.png', bytes, 'image/png');
		const r = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: url });
		expect(r.error).toBeUndefined();
		expect(r.node.parameters.inputSource).toBe('url');
		const { args, description } = offered(r.node, ctx.engine.nodeTypes.getByName(r.node.type));
		expect(args).toEqual([expect.objectContaining({ key: 'imageUrl', type: 'string', description: expect.stringMatching(/public http\(s\) address of the image/) })]);
		expect(description).toMatch(/Pass imageUrl/);
		expect(description).toMatch(/score \(0-100: how likely the image is AI-generated/);
		expect(description).toMatch(/one credit/);
		expect(description).toMatch(/few minutes/);

		const plain = await ctx.run({ resource: 'image', operation: 'detect' }, [{ json: {} }]);
		expect(plain.node.parameters.inputSource).toBe('binary');
		expect(plain.node.parameters.toolDescription).toBeUndefined();
	});

	test('Get Result asks the model for the document ID; Check Credits for nothing; each says what it does', async () => {
		const get = await call({ operation: 'getResult' }, { documentId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' });
		const getOffer = offered(get.node, ctx.engine.nodeTypes.getByName(get.node.type));
		expect(getOffer.args.map((a) => a.key)).toEqual(['documentId']);
		expect(getOffer.description).toMatch(/Pass documentId/);
		expect(getOffer.description).toMatch(/no credit/);

		const credits = await ctx.run({ resource: 'account', operation: 'getCredits' }, [{ json: {} }], { tool: true });
		const creditsOffer = offered(credits.node, ctx.engine.nodeTypes.getByName(credits.node.type));
		expect(creditsOffer.args).toEqual([]);
		expect(creditsOffer.description).toMatch(/credits left/);
		expect(credits.items).toEqual([{ json: expect.objectContaining({ credits: ctx.sim.credits() }), pairedItem: { item: 0 } }]);
	});
});

describe('what the model reads back', () => {
	test('a detection: id, status, score, verdict and the analysis, in the node\'s own field names, nothing else', async () => {
		const bytes = image.jpeg(4000, 2);
		const url = ctx.sim.publish('dog.jpg', bytes, 'image/jpeg');
		const r = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: url });
		expect(r.items).toHaveLength(1);
		const answer = r.items[0].json;
		expect(answer).toMatchObject({ status: 'done', score: scoreFor(bytes), verdict: verdictFor(scoreFor(bytes)), fileName: 'dog.jpg', reused: false });
		expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
		expect(answer.analysis.detailedReasoning).toEqual(expect.any(String));
		expect(Object.keys(answer).sort()).toEqual(['analysis', 'fileName', 'id', 'reused', 'score', 'status', 'verdict']);
		expect(r.items[0].binary).toBeUndefined();

		// Get Result of the same ID reads the same, compact too.
		const again = await call({ operation: 'getResult' }, { documentId: answer.id });
		expect(again.items[0].json).toMatchObject({ id: answer.id, status: 'done', score: answer.score, verdict: answer.verdict });
		expect(again.items[0].json.heatmapUrl).toBeUndefined();
	});

	test('Simplify Output off stays the API\'s own shape', async () => {
		const bytes = image.jpeg(4000, 3);
		const url = ctx.sim.publish('owl.jpg', bytes, 'image/jpeg');
		const r = await call({ operation: 'detect', allowPrivateAddresses: true, options: { simplify: false } }, { imageUrl: url });
		expect(r.items[0].json).toMatchObject({ result: scoreFor(bytes), result_details: { final_result: verdictFor(scoreFor(bytes)) } });
	});

	test('failures are answers with their fix, and the run goes on: a 404 image, an unknown ID, a web page', async () => {
		const missing = `${ctx.sim.storageUrl}/public/nothing-here.png`;
		const r404 = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: missing });
		expect(r404.error).toBeUndefined();
		expect(r404.items).toEqual([{ json: expect.objectContaining({ error: expect.stringMatching(/Downloading the image from its URL failed.*HTTP 404/) }), pairedItem: { item: 0 } }]);
		expect(r404.items[0].json.description).toMatch(/has no file at that address\. Pass the address of the image file itself as imageUrl/);

		const unknown = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
		const rId = await call({ operation: 'getResult' }, { documentId: unknown });
		expect(rId.error).toBeUndefined();
		expect(rId.items[0].json).toMatchObject({ error: `No document with ID ${unknown} was found`, description: expect.stringMatching(/Check the ID/), id: unknown });

		const made = await call({ operation: 'getResult' }, { documentId: 'not-an-id' });
		expect(made.items[0].json).toMatchObject({ error: expect.stringMatching(/is not a valid ID/), description: expect.stringMatching(/77565038/) });

		// A page that is no image: said so, and nothing of the page reaches the model.
		const page = ctx.sim.publish('page.png', Buffer.from(`<html><body>secret-internal-token ${'x'.repeat(2000)}</body></html>`), 'text/html');
		const rPage = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: page });
		expect(rPage.items[0].json.error).toMatch(/is not an image/);
		expect(JSON.stringify(rPage.items)).not.toContain('secret-internal-token');
	});

	test('an error page\'s body is never echoed to the model (it is, outside tool mode)', async () => {
		ctx.sim.faults.once('storage', 'GET', '/public/echo.png', { status: 403, raw: 'forbidden: secret-internal-token', contentType: 'text/plain' });
		const url = `${ctx.sim.storageUrl}/public/echo.png`;
		const r = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: url });
		expect(r.items[0].json.error).toMatch(/HTTP 403/);
		expect(JSON.stringify(r.items)).not.toContain('secret-internal-token');

		ctx.sim.faults.once('storage', 'GET', '/public/echo.png', { status: 403, raw: 'forbidden: secret-internal-token', contentType: 'text/plain' });
		const typed = await ctx.run({ resource: 'image', operation: 'detect', inputSource: 'url', imageUrl: url }, [{ json: {} }]);
		expect(typed.error.message).toMatch(/forbidden: secret-internal-token \(HTTP 403\)/);
	});

	test('the API key is in no answer, even when the model pasted it into an argument', async () => {
		const r = await call({ operation: 'getResult' }, { documentId: DEFAULT_KEY });
		expect(JSON.stringify(r.items)).not.toContain(DEFAULT_KEY);
		expect(r.items[0].json.error).toMatch(/\*\*\*/);
	});

	test('a tool set to Binary File is told it gets no files, and to use Image URL', async () => {
		const r = await call({ operation: 'detect', inputSource: 'binary' }, { imageUrl: 'https://example.com/a.png' });
		expect(r.items[0].json).toMatchObject({ error: 'Item 0 has no binary field "data"', description: expect.stringMatching(/hands a tool no files.*"Image URL"/) });
	});

	test('a missing credential key is an answer too', async () => {
		const r = await call({ operation: 'getResult' }, { documentId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' }, { credentials: { ...ctx.credentials, apiKey: ' ' } });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ error: 'The credential has no API key', description: expect.stringMatching(/paste the key/) });
	});

	test('outside tool mode nothing changes: the same 404 fails the run', async () => {
		const r = await ctx.run({ resource: 'image', operation: 'detect', inputSource: 'url', imageUrl: `${ctx.sim.storageUrl}/public/nothing.png` }, [{ json: {} }]);
		expect(r.error.message).toMatch(/HTTP 404/);
	});
});

describe('addresses a model may not make n8n fetch', () => {
	test('by default a loopback URL is refused before any request, naming the option that allows it', async () => {
		const bytes = image.png(3000, 4);
		const url = ctx.sim.publish('inside.png', bytes, 'image/png');
		const from = ctx.sim.requests.length;
		const r = await call({ operation: 'detect' }, { imageUrl: url });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.error).toMatch(/127\.0\.0\.1:\d+ is a loopback address, which an AI tool may not fetch/);
		expect(r.items[0].json.description).toMatch(/Allow Private Network Addresses/);
		expect(ctx.sim.requests.slice(from)).toEqual([]);

		const allowed = await call({ operation: 'detect', allowPrivateAddresses: true }, { imageUrl: url });
		expect(allowed.items[0].json).toMatchObject({ status: 'done', score: scoreFor(bytes) });
	});

	test.each([
		['http://169.254.169.254/latest/meta-data/', /link-local/],
		['http://localhost:5678/rest/settings', /without a domain/],
		['http://api.localhost/x.png', /local network name/],
		['http://10.1.2.3/x.png', /private/],
		['http://[::1]:8080/x.png', /loopback/],
		['http://[::ffff:192.168.0.1]/x.png', /private/],
		['http://2130706433/x.png', /loopback/],
		['http://0x7f.1/x.png', /loopback/],
		['http://metadata.google.internal/computeMetadata/v1/', /local network name/],
		['http://redis:6379/', /without a domain/],
	])('%s is refused', async (url, why) => {
		const r = await call({ operation: 'detect' }, { imageUrl: url });
		expect(r.items[0].json.error).toMatch(why);
	});

	test('outside tool mode the user typed the address, and it is fetched', async () => {
		const bytes = image.png(3000, 5);
		const url = ctx.sim.publish('typed.png', bytes, 'image/png');
		const r = await ctx.run({ resource: 'image', operation: 'detect', inputSource: 'url', imageUrl: url }, [{ json: {} }]);
		expect(r.items[0].json.score).toBe(scoreFor(bytes));
	});
});
