// End-to-end: this node as an AI Agent's tool in a real n8n (N8N_VERSION), with an OpenAI Chat Model whose
// credential's Base URL points at a scripted OpenAI-compatible model on loopback (./chat-model.js), against the
// simulator. The scripted model decides which tool to call with which arguments, and records what n8n sends it:
// the tools offered (name, JSON schema, description), what each tool answered, and that the API key is nowhere.
// The tool nodes keep the parameters a user leaves after adding them (the operation only; On Error untouched).
//
// Versions: the AI Agent's typeVersion 3.1 exists from n8n 2.x; 1.123.81 has 3 at most, whose tool calls take
// the same path (AgentV3, engine requests; 3.1 only adds a prompt source), so on 1.x the suite runs with 3.
// n8n's SSRF protection exists in 2.41 (not in 2.8.4 or 1.x): its test is defined there only.
const http = require('http');
const crypto = require('crypto');
const n8n = require('../../demo/n8n');
const { startChatModel } = require('./chat-model');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const V = n8n.N8N_VERSION;
const AGENT_VERSION = V.startsWith('1.') ? 3 : 3.1;
const HAS_SSRF_PROTECTION = /^2\.(4[1-9]|[5-9]\d)\./.test(V) || /^[3-9]\./.test(V);
const EXAMPLE_ID = 'udAiAgentDetect1';
const MODEL_CREDENTIAL = { id: 'udScriptedModel1', name: 'Scripted chat model (loopback)' };
const EXEC_TIMEOUT_MS = 180_000;
// The fields a successful Detect or Get Result of one image gives the model (the compact tool output), nothing else.
const COMPACT_FIELDS = ['id', 'status', 'score', 'verdict', 'fileName', 'reused', 'analysis', 'analysisStatus'];

let sim;
let model;
let instance;
let loopbackServer;
const servers = [];
const images = {};
const urls = {};

/** A tiny image server of the test on `host` (loopback), serving `bytes` at /photo.png and counting what it receives. */
async function imageServer(host, bytes) {
	const requests = [];
	const server = http.createServer((req, res) => {
		requests.push({ method: req.method, url: req.url });
		if (req.url !== '/photo.png') return res.writeHead(404).end();
		res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length });
		res.end(bytes);
	});
	await new Promise((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
	const entry = { url: `http://${host}:${server.address().port}/photo.png`, requests, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) };
	servers.push(entry);
	return entry;
}

async function publish(name, bytes) {
	const r = await fetch(`${sim.adminUrl}/public`, { method: 'POST', body: JSON.stringify({ name, contentType: 'image/png', base64: bytes.toString('base64') }) });
	const { url } = await r.json();
	if (!url) throw new Error(`The simulator did not publish ${name}`);
	return url;
}

const TOOLS = {
	detect: (parameters = {}) => ({ name: 'Detect image', parameters: { operation: 'detect', ...parameters } }),
	getResult: { name: 'Get result', parameters: { operation: 'getResult' } },
	credits: { name: 'Check credits', parameters: { resource: 'account', operation: 'getCredits' } },
};

/** Manual Trigger -> AI Agent, its OpenAI Chat Model (typeVersion `modelVersion`) pointed at the scripted model, and `tools`. */
function agentWorkflow(id, { modelVersion, tools }) {
	const node = (name, type, typeVersion, position, parameters, extra = {}) => ({ id: crypto.randomUUID(), name, type, typeVersion, position, parameters, ...extra });
	const nodes = [
		node('Start', 'n8n-nodes-base.manualTrigger', 1, [0, 0], {}),
		node('AI Agent', '@n8n/n8n-nodes-langchain.agent', AGENT_VERSION, [220, 0], {
			promptType: 'define',
			text: 'Is the image I sent you AI-generated?',
			options: { systemMessage: 'Use the tools to check images; report what they answer.' },
		}),
		node('OpenAI Chat Model', '@n8n/n8n-nodes-langchain.lmChatOpenAi', modelVersion, [0, 220], { model: { __rl: true, mode: 'list', value: 'gpt-4o-mini' }, options: {} }, { credentials: { openAiApi: MODEL_CREDENTIAL } }),
		...tools.map((t, k) => node(t.name, 'n8n-nodes-undetectable-image.undetectableImageTool', 1, [220 + 200 * k, 220], t.parameters, { credentials: { undetectableImageApi: n8n.CREDENTIAL } })),
	];
	const connections = {
		Start: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
		'OpenAI Chat Model': { ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]] },
	};
	for (const t of tools) connections[t.name] = { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] };
	// executionOrder v1 as the editor saves new workflows: under v0, n8n resumes the agent before its tool has run and
	// the model gets "" as the tool's answer (seen on 2.8.4).
	return { file: `${id}.json`, workflow: { id, name: id, active: false, settings: { executionOrder: 'v1' }, nodes, connections } };
}

/** The plain node (not a tool): Manual Trigger -> Detect from an Image URL. */
function plainDetectWorkflow(id, imageUrl) {
	return {
		file: `${id}.json`,
		workflow: {
			id,
			name: id,
			active: false,
			settings: { executionOrder: 'v1' },
			nodes: [
				{ id: crypto.randomUUID(), name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{
					id: crypto.randomUUID(),
					name: 'Detect from URL',
					type: 'n8n-nodes-undetectable-image.undetectableImage',
					typeVersion: 1,
					position: [220, 0],
					parameters: { operation: 'detect', inputSource: 'url', imageUrl, options: {} },
					credentials: { undetectableImageApi: n8n.CREDENTIAL },
				},
			],
			connections: { Start: { main: [[{ node: 'Detect from URL', type: 'main', index: 0 }]] } },
		},
	};
}

/**
 * examples/ai-agent-detect.json as a CLI run can start it: its Chat Trigger becomes an Edit Fields node of the same
 * name giving what the trigger gives (sessionId, chatInput) after a Manual Trigger; its model credential is the
 * scripted model's; Detect may fetch from loopback (the simulator's storage is there). The rest is unchanged.
 */
function exampleAsRun(chatInput) {
	const { workflow } = n8n.exampleWorkflows(instance.files).find((w) => w.workflow.id === EXAMPLE_ID);
	const trigger = workflow.nodes.find((nd) => nd.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	const assignment = (name, value) => ({ id: crypto.randomUUID(), name, value, type: 'string' });
	Object.assign(trigger, {
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		parameters: { assignments: { assignments: [assignment('sessionId', 'e2e-session'), assignment('action', 'sendMessage'), assignment('chatInput', chatInput)] }, options: {} },
	});
	delete trigger.webhookId;
	workflow.nodes.push({ id: crypto.randomUUID(), name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [-220, 0], parameters: {} });
	workflow.connections.Start = { main: [[{ node: trigger.name, type: 'main', index: 0 }]] };
	for (const nd of workflow.nodes) {
		if (nd.credentials?.openAiApi) nd.credentials.openAiApi = MODEL_CREDENTIAL;
		if (nd.type === '@n8n/n8n-nodes-langchain.agent') nd.typeVersion = AGENT_VERSION;
		if (nd.name === 'Detect AI image') nd.parameters.allowPrivateAddresses = true;
	}
	return { file: 'example-run.json', workflow: { ...workflow, id: 'udAgentExample01', name: 'example as run' } };
}

/**
 * Runs workflow `id` with the model answering `steps`; returns n8n's run, the requests the model received and the
 * tools' answers (parsed), in call order. A failure says which step it was and shows what n8n and the model saw.
 */
async function converse(what, id, steps, { cli = instance } = {}) {
	model.script(steps);
	let run;
	try {
		run = await n8n.execute(cli, id, EXEC_TIMEOUT_MS);
	} catch (error) {
		error.message = `${what}: ${error.message}\nScripted model: ${model.requests.length} request(s); ${model.problems.join('; ') || 'no problems'}\nWhat n8n printed last:\n${error.output ?? ''}`;
		throw error;
	}
	const requests = [...model.requests];
	const last = requests[requests.length - 1];
	const answers = (last?.toolResults ?? []).map((r) => JSON.parse(r.content));
	return { run, requests, answers, offered: requests[0]?.tools ?? [] };
}

/** A final answer that quotes every tool answer, so the agent's output shows what the model received. */
const quoteResults = { text: (req) => `Tool answers: ${req.toolResults.map((r) => r.content).join(' | ')}` };
const call = (name, args) => ({ toolCall: { name, arguments: args } });

/** Requests the model server received that carry the API key anywhere (headers or body). */
const keyLeaks = (requests) => requests.filter((r) => r.raw.includes(sim.key) || JSON.stringify(r.headers).includes(sim.key)).map((r) => r.path);

const credits = async () => (await (await fetch(`${sim.adminUrl}/stats`)).json()).credits[sim.key];

beforeAll(async () => {
	n8n.ensureN8n();
	sim = await n8n.startSimulator({ timing: { startMs: 50, resultMs: 300, heatmapMs: 200, analysisMs: 300 } });
	model = await startChatModel();
	instance = await n8n.createInstance();
	for (const name of ['chat', 'responses', 'example', 'ssrf-control']) images[name] = image.png(2600, crypto.randomInt(1, 1e9));
	for (const name of Object.keys(images)) urls[name] = await publish(`${name}.png`, images[name]);
	urls.missing = `${sim.storageUrl}/public/no-such-photo.png`;
	images.loopback = image.png(2900, crypto.randomInt(1, 1e9));
	loopbackServer = await imageServer('127.0.0.1', images.loopback);
	// The simulator's storage, where the test images are, is on loopback: the tools that fetch them allow private
	// addresses; udAgentDefaults1 keeps Detect exactly as added.
	const workflows = [
		...n8n.exampleWorkflows(instance.files).filter((w) => w.workflow.id === EXAMPLE_ID),
		agentWorkflow('udAgentChat00001', { modelVersion: 1.2, tools: [TOOLS.detect({ allowPrivateAddresses: true }), TOOLS.getResult, TOOLS.credits] }),
		agentWorkflow('udAgentResponses', { modelVersion: 1.3, tools: [TOOLS.detect({ allowPrivateAddresses: true }), TOOLS.getResult, TOOLS.credits] }),
		agentWorkflow('udAgentDefaults1', { modelVersion: 1.2, tools: [TOOLS.detect()] }),
		plainDetectWorkflow('udAgentPlain404x', urls.missing),
	];
	workflows.push(exampleAsRun(`Is ${urls.example} AI-generated?`));
	await n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, workflows);
	await n8n.importCredentials(instance, [{ ...MODEL_CREDENTIAL, type: 'openAiApi', data: { apiKey: 'sk-scripted-model-not-a-secret', url: model.url } }]);
}, 15 * 60_000);

afterAll(async () => {
	await model?.stop();
	for (const s of servers) await s.close();
	sim?.stop();
});

test(`n8n ${V}: the model is offered the three tools with their parameters and descriptions; Detect, Get Result and Check Credits answer it (/chat/completions)`, async () => {
	const before = await credits();
	const { run, requests, answers, offered } = await converse('Detect, Get Result, Check Credits over /chat/completions', 'udAgentChat00001', [
		call('Detect_image', { imageUrl: urls.chat }),
		(req) => call('Get_result', { documentId: JSON.parse(req.toolResults[0].content)[0].id }),
		call('Check_credits', {}),
		quoteResults,
	]);
	expect(requests.map((r) => r.api)).toEqual(['chat', 'chat', 'chat', 'chat']);

	const tool = (name) => offered.find((t) => t.name === name);
	expect(offered.map((t) => t.name).sort()).toEqual(['Check_credits', 'Detect_image', 'Get_result']);
	expect(tool('Detect_image').parameters).toMatchObject({ type: 'object', properties: { imageUrl: { type: 'string' } }, required: ['imageUrl'] });
	expect(Object.keys(tool('Detect_image').parameters.properties)).toEqual(['imageUrl']);
	expect(tool('Detect_image').parameters.properties.imageUrl.description).toMatch(/address of the image/i);
	expect(tool('Detect_image').description).toMatch(/imageUrl/);
	expect(tool('Detect_image').description).toMatch(/http\(s\) address of the image/i);
	expect(tool('Detect_image').description).toMatch(/score/);
	expect(tool('Detect_image').description).toMatch(/verdict/);
	expect(tool('Detect_image').description).toMatch(/credit/);
	expect(tool('Get_result').parameters).toMatchObject({ properties: { documentId: { type: 'string' } }, required: ['documentId'] });
	expect(Object.keys(tool('Get_result').parameters.properties)).toEqual(['documentId']);
	expect(tool('Get_result').description).toMatch(/documentId/);
	expect(tool('Get_result').description).toMatch(/verdict/);
	expect(tool('Check_credits').parameters.properties).toEqual({});
	expect(tool('Check_credits').description).toMatch(/credits/);

	const score = scoreFor(images.chat);
	const [[detected], [result], [account]] = answers;
	expect(detected).toMatchObject({ status: 'done', score, verdict: verdictFor(score), fileName: 'chat.png' });
	expect(detected.id).toMatch(/^[0-9a-f-]{36}$/);
	expect(COMPACT_FIELDS).toEqual(expect.arrayContaining(Object.keys(detected)));
	expect(result).toMatchObject({ id: detected.id, status: 'done', score, verdict: verdictFor(score) });
	expect(COMPACT_FIELDS).toEqual(expect.arrayContaining(Object.keys(result)));
	// One new image was checked in this run: one credit, and Check Credits (called after it) says what is left.
	expect(account).toMatchObject({ credits: before - 1 });
	expect(await credits()).toBe(before - 1);

	expect(keyLeaks(requests)).toEqual([]);
	const [output] = n8n.nodeOutput(run, 'AI Agent');
	expect(output.output).toContain(`"score":${score}`);
	expect(run).toMatchObject({ status: 'success', finished: true });
});

test(`n8n ${V}: a 404 image URL and an unknown document ID reach the model as answers with their fix, and the run succeeds`, async () => {
	const unknownId = crypto.randomUUID();
	const { run, requests, answers } = await converse('404 image and unknown ID as tool answers', 'udAgentChat00001', [
		call('Detect_image', { imageUrl: urls.missing }),
		call('Get_result', { documentId: unknownId }),
		quoteResults,
	]);
	const [[missing], [unknown]] = answers;
	expect(missing.error).toMatch(/404/);
	expect(missing.description).toContain(`${new URL(urls.missing).host} has no file at that address`);
	// The error page's body (S3's NoSuchKey XML) is never handed to the model.
	expect(JSON.stringify(missing)).not.toMatch(/NoSuchKey|specified key/);
	expect(unknown.error).toMatch(new RegExp(`No document with ID ${unknownId} was found`));
	expect(unknown.description).toMatch(/Check the ID: it must come from a Detect or Bulk Detect run/);

	expect(keyLeaks(requests)).toEqual([]);
	expect(n8n.nodeOutput(run, 'AI Agent')[0].output).toContain('No document with ID');
	expect(run).toMatchObject({ status: 'success', finished: true });
	expect(run.data.resultData.error).toBeUndefined();
});

test(`n8n ${V}: the plain node (not a tool) with the same 404 URL still fails the execution`, async () => {
	const r = await instance.cli(['execute', '--id=udAgentPlain404x', '--rawOutput'], EXEC_TIMEOUT_MS);
	expect(r.timedOut).toBe(false);
	expect(r.status).toBe(1);
	expect(`${r.stdout}\n${r.stderr}`).toMatch(/Downloading the image from its URL failed.*\(HTTP 404\)/);
});

test(`n8n ${V}: with the defaults, a model-supplied URL on 127.0.0.1 is refused before any request; with Allow Private Network Addresses it is detected`, async () => {
	const server = loopbackServer;
	const refused = await converse('loopback URL, defaults', 'udAgentDefaults1', [call('Detect_image', { imageUrl: server.url }), quoteResults]);
	const [[answer]] = refused.answers;
	expect(answer.error).toMatch(/127\.0\.0\.1.*loopback/);
	expect(answer.description).toMatch(/Allow Private Network Addresses/);
	expect(server.requests).toEqual([]);
	// The defaults offer the same one parameter.
	expect(Object.keys(refused.offered[0].parameters.properties)).toEqual(['imageUrl']);
	expect(keyLeaks(refused.requests)).toEqual([]);

	const allowed = await converse('loopback URL, private addresses allowed', 'udAgentChat00001', [call('Detect_image', { imageUrl: server.url }), quoteResults]);
	const score = scoreFor(images.loopback);
	expect(allowed.answers[0][0]).toMatchObject({ status: 'done', score, verdict: verdictFor(score) });
	expect(server.requests).toEqual([{ method: 'GET', url: '/photo.png' }]);
	expect(keyLeaks(allowed.requests)).toEqual([]);
});

test(`n8n ${V}: the Responses API (OpenAI Chat Model 1.3): Detect and an unknown ID as function_call_output`, async () => {
	const unknownId = crypto.randomUUID();
	const { requests, answers, offered } = await converse('Detect and unknown ID over /responses', 'udAgentResponses', [
		call('Detect_image', { imageUrl: urls.responses }),
		call('Get_result', { documentId: unknownId }),
		quoteResults,
	]);
	expect(requests.map((r) => r.api)).toEqual(['responses', 'responses', 'responses']);
	expect(offered.map((t) => t.name).sort()).toEqual(['Check_credits', 'Detect_image', 'Get_result']);
	expect(Object.keys(offered.find((t) => t.name === 'Detect_image').parameters.properties)).toEqual(['imageUrl']);
	expect(offered.find((t) => t.name === 'Detect_image').description).toMatch(/score.*verdict/s);
	const score = scoreFor(images.responses);
	expect(answers[0][0]).toMatchObject({ status: 'done', score, verdict: verdictFor(score) });
	expect(answers[1][0].error).toMatch(new RegExp(`No document with ID ${unknownId} was found`));
	expect(answers[1][0].description).toEqual(expect.any(String));
	expect(keyLeaks(requests)).toEqual([]);
});

test(`n8n ${V}: examples/ai-agent-detect.json: the agent detects the image the user names and answers with its verdict`, async () => {
	const { run, requests, answers, offered } = await converse('the example workflow', 'udAgentExample01', [
		(req) => call('Detect_AI_image', { imageUrl: /(http:\S+\.png)/.exec(req.messages.find((m) => m.role === 'user').content)[1] }),
		quoteResults,
	]);
	expect(requests.map((r) => r.api)).toEqual(['responses', 'responses']);
	expect(offered.map((t) => t.name).sort()).toEqual(['Check_credits', 'Detect_AI_image', 'Get_detection_result']);
	// The example's system message (as "developer" for a reasoning model such as gpt-5-mini).
	expect(['system', 'developer']).toContain(requests[0].messages[0].role);
	expect(requests[0].messages[0].content).toMatch(/call the "Detect AI image" tool/);
	const score = scoreFor(images.example);
	expect(answers[0][0]).toMatchObject({ status: 'done', score, verdict: verdictFor(score), fileName: 'example.png' });
	expect(n8n.nodeOutput(run, 'AI Agent')[0].output).toContain(`"verdict":"${verdictFor(score)}"`);
	expect(keyLeaks(requests)).toEqual([]);
});

if (HAS_SSRF_PROTECTION) {
	test(`n8n ${V}: with n8n's SSRF protection on (127.0.0.1 allowed), a tool allowed private addresses gets n8n's block for 127.0.0.2, which receives nothing`, async () => {
		const blockedServer = await imageServer('127.0.0.2', image.png(2700, 4242));
		// The model server and the simulator are on 127.0.0.1, which these settings let n8n reach.
		const ssrf = n8n.cliWith(instance, { N8N_SSRF_PROTECTION_ENABLED: 'true', N8N_SSRF_ALLOWED_IP_RANGES: '127.0.0.1/32' });
		const { requests, answers } = await converse('SSRF protection', 'udAgentChat00001', [call('Detect_image', { imageUrl: blockedServer.url }), call('Detect_image', { imageUrl: urls['ssrf-control'] }), quoteResults], { cli: ssrf });
		const [[blocked], [control]] = answers;
		expect(blocked.error).toMatch(/SSRF protection blocked/);
		expect(blocked.description).toEqual(expect.any(String));
		expect(blockedServer.requests).toEqual([]);
		// The same run detects an image on the allowed 127.0.0.1: the block is n8n's rule for 127.0.0.2, not a broken run.
		const score = scoreFor(images['ssrf-control']);
		expect(control).toMatchObject({ status: 'done', score, verdict: verdictFor(score) });
		expect(keyLeaks(requests)).toEqual([]);
	});
}
