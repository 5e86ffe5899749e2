// Where n8n puts several files on one item, in a real `n8n start` (N8N_VERSION) with this package installed as a
// community node, against the simulator:
// - examples/form-upload-check.json, activated, used as a browser uses it: the form page fetched, its file field
//   taken from the HTML, the images posted as multipart to /form/<path>, the form's own script followed (the
//   waiting page, the ending page, the ending page's own POST), with 1 and with 3 images;
// - an email's attachments on one item (attachment_0.. plus a PDF and a 600-byte logo), as a Webhook node receives
//   them from a multipart POST: n8n names each binary after its form field, as the Gmail and IMAP triggers name
//   attachments; Detect with "Every Image of the Item" and Include Other Input Fields;
// - combined binary mode (Execution Logic v2): Read/Write Files -> Detect with Download Heatmap, the field given
//   as n8n's own nodes take it there (`_files.data`) and by its plain name (`data`).
// What n8n recorded is read back through its REST API as the owner (the executions view's data).
const fs = require('fs');
const path = require('path');
const n8n = require('../../demo/n8n');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const VERSION = n8n.N8N_VERSION;
const OWNER = { email: 'forms@example.com', firstName: 'Forms', lastName: 'Test', password: 'Forms-e2e-password-1' };
const FORM_ID = 'udFormUpload0001';
const ATTACHMENTS_ID = 'udFormsAttach001';
const COMBINED_ID = 'udFormsCombined1';
const WORKFLOWS = path.join(__dirname, 'workflows');
// Combined binary mode is the workflow setting `binaryMode: "combined"` (the 2.41 editor's Execution Logic "v2" sets
// it, with executionOrder "v1"). The engine of 2.8.4 has it as well (n8n-core's convertBinaryData after each node),
// so the test runs there too; n8n 1.x has no such mode (no BINARY_MODE_COMBINED in n8n-workflow 1.123), so the
// test is not defined there.
const HAS_COMBINED_MODE = Number(VERSION.split('.')[0]) >= 2;

let sim;
let instance;
let server;
let cookie;

/** Runs one step of a test; its error names the step and ends with what n8n printed last. */
async function step(what, fn) {
	try {
		return await fn();
	} catch (error) {
		error.message = `n8n ${VERSION}, step "${what}" failed: ${error.message}`;
		const printed = server?.proc.output ?? error.output;
		if (printed) error.message += `\nWhat n8n printed last:\n${String(printed).split('\n').slice(-40).join('\n')}`;
		throw error;
	}
}

const stats = async () => (await fetch(`${sim.adminUrl}/stats`)).json();
const creditsLeft = async () => Object.values((await stats()).credits)[0];
const workflowFile = (file) => ({ file, workflow: JSON.parse(fs.readFileSync(path.join(WORKFLOWS, file), 'utf8').split(n8n.EXAMPLE_FILES).join(instance.files)) });

beforeAll(async () => {
	n8n.ensureN8n();
	instance = await n8n.createInstance();
	sim = await n8n.startSimulator({ timing: { startMs: 50, resultMs: 300, heatmapMs: 200, analysisMs: 300, perImageMs: 20 } });
	const workflows = [
		...n8n.exampleWorkflows(instance.files).filter((w) => w.workflow.id === FORM_ID),
		workflowFile('forms-attachments.json'),
		...(HAS_COMBINED_MODE ? [workflowFile('forms-combined.json')] : []),
	];
	await step('import the workflows', () => n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, workflows));
	await step('activate the form and the webhook', () => n8n.activate(instance, [FORM_ID, ATTACHMENTS_ID]));
	server = await step('n8n start', () => n8n.startServer(instance, { owner: OWNER }));
	cookie = await step('log in as the owner', () => n8n.login(server.base, OWNER));
}, 10 * 60_000);

afterAll(async () => {
	await server?.stop();
	sim?.stop();
	if (instance) fs.rmSync(instance.userFolder, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// A browser, as far as n8n's form pages use one: their HTML, and what their scripts do on submit and on load.

const decode = (s) =>
	s
		.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
		.replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
		.replace(/&quot;/g, '"')
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&amp;/g, '&');

const attribute = (tag, name) => {
	const m = new RegExp(`\\s${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)"|([^\\s>]+))`, 'i').exec(tag);
	return m ? decode(m[1] ?? m[2] ?? m[3]) : undefined;
};

/** The form's controls in document order, as `form.elements` lists them: tag, type, name, value, multiple, accept. */
function formControls(html) {
	const form = /<form[\s\S]*?<\/form>/i.exec(html)?.[0];
	if (!form) throw new Error(`The form page has no <form>:\n${html.slice(0, 500)}`);
	return [...form.matchAll(/<(input|button|select|textarea)\b[^>]*>/gi)].map(([tag, kind]) => ({
		kind: kind.toLowerCase(),
		type: (attribute(tag, 'type') ?? (kind.toLowerCase() === 'button' ? 'submit' : 'text')).toLowerCase(),
		name: attribute(tag, 'name') ?? '',
		value: attribute(tag, 'value') ?? '',
		multiple: /\smultiple\b/i.test(tag),
		accept: attribute(tag, 'accept'),
	}));
}

/**
 * The text the person reads on an ending page: its heading, and its message's lines as the page breaks them
 * (at <br>; at newlines too where the message is styled `white-space: pre-line`, as n8n 2.x does; n8n 1.x is not).
 */
function endingPage(html) {
	const found = /<h1>([\s\S]*?)<\/h1>\s*<p( style="[^"]*")?>([\s\S]*?)<\/p>/i.exec(html);
	if (!found) throw new Error(`This is not a form ending page:\n${html.slice(0, 800)}`);
	const [, title, style = '', message] = found;
	const breaks = /pre-line/.test(style) ? /<br\s*\/?>|\n/i : /<br\s*\/?>/i;
	const lines = message.split(breaks).map((l) => decode(l.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim());
	return { title: decode(title).trim(), lines };
}

const authTokenOf = (html) => /const authToken = '([^']*)'/.exec(html)?.[1] ?? '';
const withSignature = (url, signature) => {
	const u = new URL(url);
	if (signature) u.searchParams.set('signature', signature);
	return u;
};

/**
 * Opens the form at `url`, picks `files` ({name, type, bytes}) in its file field and submits, as n8n's form page
 * script does: every control of the form appended to a FormData (files of the file input, the others' values),
 * posted to the page's own address; then the waiting page's status polled until the ending page is ready, that
 * page loaded, and its own POST sent (which finishes the execution). Returns what the person saw and the
 * execution's id.
 */
async function submitForm(url, files) {
	const page = await fetch(url);
	const html = await page.text();
	if (!page.ok) throw new Error(`GET ${url} answered ${page.status}: ${html.slice(0, 300)}`);
	const controls = formControls(html);
	const fileInputs = controls.filter((c) => c.kind === 'input' && c.type === 'file');
	if (fileInputs.length !== 1) throw new Error(`Expected one file input on the form, found ${fileInputs.length}`);
	const [fileInput] = fileInputs;
	if (files.length > 1 && !fileInput.multiple) throw new Error(`The file input "${fileInput.name}" takes one file; ${files.length} were picked`);
	const body = new FormData();
	for (const control of controls) {
		if (control === fileInput) for (const f of files) body.append(control.name, new Blob([f.bytes], { type: f.type }), f.name);
		else body.append(control.name, control.value);
	}
	const headers = authTokenOf(html) ? { 'x-auth-token': authTokenOf(html) } : {};
	const posted = await fetch(url, { method: 'POST', body, headers });
	const answer = await posted.text();
	if (!posted.ok) throw new Error(`Submitting the form answered ${posted.status}: ${answer.slice(0, 300)}`);
	const useResponseData = /id="useResponseData"[^>]*value=(?:"|')?true/i.test(html);
	let json;
	try {
		json = JSON.parse(answer);
	} catch {}
	if (!useResponseData || !json?.formWaitingUrl) throw new Error(`The form did not hand over to a waiting page (useResponseData ${useResponseData}): ${answer.slice(0, 300)}`);

	const waiting = new URL(json.formWaitingUrl);
	const signature = waiting.searchParams.get('signature');
	const executionId = waiting.pathname.split('/').pop();
	const statusUrl = withSignature(json.formWaitingUrl, signature);
	statusUrl.pathname += '/n8n-execution-status';
	const status = await n8n.until(
		'the ending page (n8n-execution-status "form-waiting")',
		async () => {
			const text = (await (await fetch(statusUrl)).text()).trim();
			if (['canceled', 'crashed', 'error', 'null'].includes(text)) return `failed: ${text}`;
			if (text === 'success') return 'finished without an ending page';
			return text === 'form-waiting' && text;
		},
		120_000,
		250,
	);
	if (status !== 'form-waiting') throw new Error(`The execution behind the form ${status} (the person sees "Problem submitting response")`);

	const ending = await fetch(withSignature(json.formWaitingUrl, signature));
	const endingHtml = await ending.text();
	if (!ending.ok) throw new Error(`GET ${json.formWaitingUrl} answered ${ending.status}: ${endingHtml.slice(0, 300)}`);
	// The ending page's script posts `{}` (sent by fetch as the text "[object Object]") to finish the execution.
	const finish = await fetch(withSignature(json.formWaitingUrl, signature), {
		method: 'POST',
		body: String({}),
		headers: { 'content-type': 'text/plain;charset=UTF-8', ...(authTokenOf(endingHtml) ? { 'x-auth-token': authTokenOf(endingHtml) } : {}) },
	});
	if (!finish.ok) throw new Error(`The ending page's POST answered ${finish.status}: ${(await finish.text()).slice(0, 300)}`);
	return { fileInput, page: endingPage(endingHtml), executionId };
}

/** The saved execution once it has finished (n8n saves it a moment after the last answer). */
const finishedExecution = (id) =>
	n8n.until(`execution ${id} to finish`, async () => {
		const e = await n8n.savedExecution(server.base, cookie, id);
		return e.finished || ['success', 'error', 'crashed', 'canceled'].includes(e.status) ? e : undefined;
	}, 60_000, 300);

// ---------------------------------------------------------------------------------------------------------------

const png = (name, size, seed) => ({ name, type: 'image/png', bytes: image.png(size, seed) });
const expected = (f) => ({ fileName: f.name, status: 'done', score: scoreFor(f.bytes), verdict: verdictFor(scoreFor(f.bytes)) });

describe.each([
	['one image', [png('my photo.png', 4200, 301)]],
	['three images', [png('beach.png', 4300, 302), png('portrait.png', 5200, 303), png('city at night.png', 6100, 304)]],
])(`n8n ${VERSION}: the example upload form (examples/form-upload-check.json), submitted as a browser does`, (what, files) => {
	test(`${what}: one result per image with its score, and the ending page shows each file's verdict and score`, async () => {
		const before = await creditsLeft();
		const formUrl = `${server.base}/form/undetectable-check`;
		await step('the form page to be served', () => n8n.until(`${formUrl} to serve the form`, async () => (await fetch(formUrl)).ok, 60_000));
		const { fileInput, page, executionId } = await step(`submit the form with ${what}`, () => submitForm(formUrl, files));
		// The field as the page names it (n8n numbers its form fields), allowing several images of the listed types.
		expect(fileInput).toMatchObject({ name: 'field-0', multiple: true });
		expect(fileInput.accept.split(/,\s*/)).toEqual(expect.arrayContaining(['.jpg', '.jpeg', '.png', '.webp', '.heic']));

		const execution = await step('read the execution back', () => finishedExecution(executionId));
		expect(execution.status).toBe('success');
		const detections = n8n.nodeOutput(execution, 'Check every image');
		expect(detections).toHaveLength(files.length);
		for (const f of files) expect(detections).toContainEqual(expect.objectContaining(expected(f)));
		// Each result names the binary field the Form Trigger put its file in (Images, or Images_0.. for several).
		const [submitted] = execution.data.resultData.runData['Upload form'][0].data.main[0];
		const fields = Object.keys(submitted.binary ?? {});
		expect(fields).toHaveLength(files.length);
		for (const field of fields) expect(field).toMatch(/^Images(_\d+)?$/);
		expect(detections.map((d) => d.binaryField).sort()).toEqual(fields.sort());
		expect(before - (await creditsLeft())).toBe(files.length);

		// What the person sees: a line per file, in the order of the results, with its verdict and score.
		expect(page.title).toBe('Your results');
		const shown = (f) => `${f.name}: ${verdictFor(scoreFor(f.bytes))}, score ${scoreFor(f.bytes)}`;
		const inOrder = detections.map((d) => files.find((f) => f.name === d.fileName));
		expect(page.lines).toEqual([...inOrder.map(shown), '', 'The score (0 to 100) is how likely the image is AI-generated.']);
	});
});

test(`n8n ${VERSION}: an email's attachments on one item (attachment_0..4: three images, a PDF, a 600-byte logo) -> Detect every image, the item's own fields kept`, async () => {
	const attachments = [
		png('beach.png', 3300, 311),
		png('dunes.png', 3400, 312),
		png('sunset.png', 3500, 313),
		{ name: 'itinerary.pdf', type: 'application/pdf', bytes: image.pdf(4000, 314) },
		png('logo.png', 600, 315),
	];
	const url = `${server.base}/webhook/undetectable-attachments`;
	await step('the webhook to be registered', () => n8n.until(`${url} to be registered`, async () => /POST/.test(await (await fetch(url)).text()), 60_000));
	const before = await creditsLeft();
	const body = new FormData();
	body.append('subject', 'Photos from the trip');
	body.append('from', 'ann@example.com');
	attachments.forEach((a, k) => body.append(`attachment_${k}`, new Blob([a.bytes], { type: a.type }), a.name));
	const results = await step('POST the email to the webhook', async () => {
		const r = await fetch(url, { method: 'POST', body });
		const text = await r.text();
		if (!r.ok) throw new Error(`The webhook answered ${r.status}: ${text.slice(0, 500)}`);
		return JSON.parse(text);
	});

	expect(results).toHaveLength(5);
	const byField = Object.fromEntries(results.map((r) => [r.binaryField, r]));
	expect(Object.keys(byField).sort()).toEqual(['attachment_0', 'attachment_1', 'attachment_2', 'attachment_3', 'attachment_4']);
	for (const k of [0, 1, 2]) expect(byField[`attachment_${k}`]).toMatchObject(expected(attachments[k]));
	expect(byField.attachment_3).toMatchObject({ status: 'skipped', fileName: 'itinerary.pdf' });
	expect(byField.attachment_3.skipReason).toMatch(/PDF, not an image/);
	expect(byField.attachment_4).toMatchObject({ status: 'skipped', fileName: 'logo.png' });
	expect(byField.attachment_4.skipReason).toMatch(/too small/);
	for (const skipped of [byField.attachment_3, byField.attachment_4]) expect(skipped).not.toHaveProperty('score');
	// Include Other Input Fields: the email's own fields beside every result, skipped ones too.
	for (const r of results) expect(r.body).toEqual({ subject: 'Photos from the trip', from: 'ann@example.com' });
	expect(before - (await creditsLeft())).toBe(3);

	// The results come in field order (attachment_0, attachment_1, ...), whatever order the Webhook's upload parser
	// finished the files in (it varies from run to run).
	const execution = await step('read the execution back', async () => {
		const listUrl = `${server.base}/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: ATTACHMENTS_ID }))}`;
		const [latest] = await n8n.until('the webhook execution to be listed', async () => {
			const list = await fetch(listUrl, { headers: { cookie } });
			if (!list.ok) throw new Error(`GET ${listUrl} answered ${list.status}`);
			const { results } = (await list.json()).data;
			return results.length && results;
		}, 30_000);
		return finishedExecution(latest.id);
	});
	const [received] = execution.data.resultData.runData['Email arrives'][0].data.main[0];
	expect(Object.keys(received.binary).sort()).toEqual(['attachment_0', 'attachment_1', 'attachment_2', 'attachment_3', 'attachment_4']);
	expect(results.map((r) => r.binaryField)).toEqual(['attachment_0', 'attachment_1', 'attachment_2', 'attachment_3', 'attachment_4']);
	const paired = execution.data.resultData.runData['Check every attachment'][0].data.main[0];
	for (const item of paired) expect(item.pairedItem).toMatchObject({ item: 0 });
});

/** A file n8n keeps in its filesystem binary store (N8N_DEFAULT_BINARY_DATA_MODE=filesystem): <user folder>/.n8n/storage. */
function storedBytes(id) {
	const [mode, key] = String(id).split(/:(.*)/s);
	if (!/^filesystem/.test(mode) || !key) throw new Error(`Not a file of n8n's filesystem binary store: ${id}`);
	return fs.readFileSync(path.join(instance.userFolder, '.n8n', 'storage', key));
}

if (HAS_COMBINED_MODE) {
	test(`n8n ${VERSION}: combined binary mode (settings.binaryMode "combined"): Read/Write Files -> Detect with Download Heatmap, Input Binary Field "_files.data" and "data"`, async () => {
		const photo = { name: 'combined photo.png', bytes: image.png(5400, 321) };
		const dir = path.join(instance.files, 'undetectable', 'forms');
		fs.mkdirSync(dir, { recursive: true });
		fs.writeFileSync(path.join(dir, photo.name), photo.bytes);
		const before = await creditsLeft();
		// `n8n start` holds the instance's task broker port: this CLI run gets its own.
		const cli = n8n.cliWith(instance, { N8N_RUNNERS_BROKER_PORT: String(await n8n.freePort()) });
		const run = await step('n8n execute the combined-mode workflow', () => n8n.execute(cli, COMBINED_ID));

		// The mode is in effect: Read/Write Files' file is in the item's JSON, its binary is empty.
		const [read] = run.data.resultData.runData['Read the image'][0].data.main[0];
		expect(read.binary ?? {}).toEqual({});
		expect(read.json._files.data).toMatchObject({ fileName: photo.name, mimeType: 'image/png' });

		for (const node of ['Detect (_files.data)', 'Detect (data)']) {
			const [item] = run.data.resultData.runData[node][0].data.main[0];
			expect(item.json).toMatchObject({ ...expected(photo), binaryField: 'data', heatmapStatus: 'ready' });
			expect(item.binary ?? {}).toEqual({});
			expect(item.json._files.heatmap).toMatchObject({ fileName: 'combined photo-heatmap.png', mimeType: 'image/png' });
			expect(storedBytes(item.json._files.heatmap.id).subarray(0, 8)).toEqual(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'));
			// The input's image rides along, as in the ordinary mode.
			expect(item.json._files.data).toMatchObject({ fileName: photo.name });
		}
		// The same image with the same options: the second node finds the first one's result.
		expect(run.data.resultData.runData['Detect (data)'][0].data.main[0][0].json.reused).toBe(true);
		expect(before - (await creditsLeft())).toBe(1);
	});
}
