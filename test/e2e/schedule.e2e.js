// The scheduled storage flow of examples/scheduled-bucket-alerts.json, end to end with real servers on loopback:
// an S3-compatible bucket (s3rver, its signatures checked), an SMTP server that requires a login (smtp-server), the
// API simulator, and a real `n8n start` (N8N_VERSION) running the example, activated, on a Schedule Trigger every few
// seconds. Between ticks the test adds files to the bucket, among them an extensionless octet-stream PNG, PNG bytes
// named .jpg, names with spaces, stray files (notes.txt, Thumbs.db), an image the service makes no heatmap of, and
// copies of an image under other names (within one tick and across ticks), then reads what each tick did: the
// Detect output of its saved execution, the credits the simulator counted, the messages the SMTP server received
// and the heatmaps the bucket holds.
const fs = require('fs');
const os = require('os');
const path = require('path');
const n8n = require('../../demo/n8n');
const { startS3, startSmtp } = require('./storage-servers');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const EXAMPLE = path.join(n8n.ROOT, 'examples', 'scheduled-bucket-alerts.json');
const WORKFLOW_ID = 'udBucketAlerts01';
const BUCKET = 'incoming-images';
const RECIPIENT = 'image-desk@example.test';
const INTERVAL_S = 10;
const TICK_MS = 90_000; // a tick is due every INTERVAL_S; this is how long the test waits for one before failing
const OWNER = { email: 'schedule-owner@example.com', firstName: 'Schedule', lastName: 'Owner', password: 'Schedule-password-1' };

/**
 * PNG bytes the simulator gives `verdict`: the first seed from `seed` on that gets it (deterministic). `marker`
 * steers the simulator (SIM:NOHEATMAP: it makes no heatmap of the image).
 */
function imageWith(verdict, size, seed, marker) {
	for (let s = seed; s < seed + 1000; s++) {
		const bytes = image.png(size, s, marker);
		if (verdictFor(scoreFor(bytes)) === verdict) return bytes;
	}
	throw new Error(`No seed from ${seed} gives ${verdict}`);
}
const NO_HEATMAP = 'SIM:NOHEATMAP';
const hasNoHeatmap = (bytes) => bytes.includes(NO_HEATMAP);

const AI = 'AI Generated';
const beach = imageWith(AI, 3000, 100);
const forest = imageWith(AI, 3300, 300);
const notes = Buffer.from('Shoot list for Friday: the harbour at dawn, the beach after lunch, the city at night.\n'.repeat(20));
const isStray = (f) => f.type === 'text/plain' || f.key === 'Thumbs.db';
// The files added before each tick: key, bytes, the Content-Type the bucket serves them with.
const BATCHES = [
	[
		{ key: 'beach photo.png', bytes: beach, type: 'image/png' },
		{ key: 'harbour.png', bytes: imageWith('Real', 3100, 200), type: 'image/png' },
		{ key: 'notes.txt', bytes: notes, type: 'text/plain' }, // a stray text file
	],
	[
		{ key: '8f3a2c', bytes: imageWith(AI, 3200, 400), type: 'application/octet-stream' }, // no extension, generic type
		{ key: 'sunset.jpg', bytes: imageWith(AI, 3400, 500), type: 'image/jpeg' }, // PNG bytes named .jpg
		{ key: 'city.png', bytes: imageWith('Real', 3500, 600), type: 'image/png' },
		{ key: 'forest.png', bytes: forest, type: 'image/png' },
		{ key: 'forest (copy).png', bytes: forest, type: 'image/png' }, // the same image twice in one tick
		{ key: 'Thumbs.db', bytes: Buffer.from('\xd0\xcf\x11\xe0 thumbnail cache', 'latin1'), type: 'application/octet-stream' }, // stray, tiny
	],
	[
		{ key: 'beach photo copy.png', bytes: beach, type: 'image/png' }, // an image of tick 1 under another name
		{ key: 'portrait.png', bytes: imageWith(AI, 3600, 700), type: 'image/png' },
		{ key: 'skyline.png', bytes: imageWith(AI, 3700, 800, NO_HEATMAP), type: 'image/png' }, // the service makes no heatmap of it
	],
	[], // a tick with nothing new: no credit, no email
];

const stemOf = (name) => name.replace(/\.[^.]+$/, '');
const sameBytes = (a, b) => Buffer.compare(a, b) === 0;

let instance;
let sim;
let s3;
let smtp;
let server;
let cookie;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-schedule-'));
const inBucket = []; // every file put so far, in order
const seenImages = []; // the distinct images (bytes) of earlier ticks
const ticks = []; // what each tick did, for the later tests

/** What n8n and the servers printed last: for a failure message. */
function context() {
	const tail = (text, n) => String(text ?? '').split('\n').slice(-n).join('\n');
	return [
		`n8n printed last:\n${tail(server?.proc.output, 40)}`,
		`S3 requests last:\n${tail(s3?.requests().join('\n'), 15)}`,
		`SMTP server printed:\n${tail(smtp?.proc.output, 10)}`,
	].join('\n\n');
}

/** Runs one step; a failure says which step and what the servers printed. */
async function step(what, fn) {
	try {
		return await fn();
	} catch (error) {
		error.message = `${what}: ${error.message}\n\n${context()}`;
		throw error;
	}
}

async function executions() {
	const filter = encodeURIComponent(JSON.stringify({ workflowId: WORKFLOW_ID }));
	const r = await fetch(`${server.base}/rest/executions?filter=${filter}&limit=100`, { headers: { cookie } });
	if (!r.ok) throw new Error(`GET /rest/executions answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
	return (await r.json()).data.results;
}

/** The first execution that started after `since` (ms), once it has finished. */
async function tickAfter(since) {
	const found = await n8n.until(
		`a tick of the schedule that starts after ${new Date(since).toISOString()} and finishes`,
		async () => {
			const later = (await executions()).filter((e) => Date.parse(e.startedAt) >= since).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
			return later[0] && !['new', 'running', 'waiting'].includes(later[0].status) && later[0];
		},
		TICK_MS,
		250,
	);
	const execution = await n8n.savedExecution(server.base, cookie, found.id);
	if (execution.status !== 'success') {
		const error = execution.data?.resultData?.error;
		throw new Error(`The tick (execution ${found.id}) ended ${execution.status}: ${error?.message} ${error?.description ?? ''}`);
	}
	return execution;
}

async function creditsLeft() {
	const stats = await (await fetch(`${sim.adminUrl}/stats`)).json();
	return { credits: stats.credits[sim.key], documents: stats.docs.length };
}

beforeAll(async () => {
	await step('setting up n8n, the simulator, the bucket and the mail server', async () => {
		n8n.ensureN8n();
		instance = await n8n.createInstance();
		sim = await n8n.startSimulator({ timing: { startMs: 50, resultMs: 300, heatmapMs: 200, analysisMs: 300, perImageMs: 20 } });
		s3 = await startS3({ directory: path.join(work, 's3'), buckets: [BUCKET] });
		smtp = await startSmtp({ spool: path.join(work, 'mail') });

		// The example as a user would set it up: the bucket, the recipient, and the schedule (seconds, for the test).
		const workflow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
		for (const node of workflow.nodes) {
			if (node.type === 'n8n-nodes-base.scheduleTrigger') node.parameters.rule = { interval: [{ field: 'seconds', secondsInterval: INTERVAL_S }] };
			if (node.type === 'n8n-nodes-base.s3') node.parameters.bucketName = BUCKET;
			if (node.type === 'n8n-nodes-base.emailSend') node.parameters.toEmail = RECIPIENT;
		}
		const s3Node = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.s3');
		const mailNode = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.emailSend');
		await n8n.importCredentials(instance, [
			{
				...s3Node.credentials.s3,
				type: 's3',
				data: { endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, ignoreSSLIssues: false },
			},
			{ ...mailNode.credentials.smtp, type: 'smtp', data: { user: smtp.user, password: smtp.password, host: smtp.host, port: smtp.port, secure: false, disableStartTls: true } },
		]);
		await n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, [{ file: 'scheduled-bucket-alerts.json', workflow }]);
		await n8n.activate(instance, [WORKFLOW_ID]);
	});
}, 15 * 60_000);

afterAll(async () => {
	await server?.stop();
	await s3?.stop();
	await smtp?.stop();
	await sim?.stop();
	fs.rmSync(work, { recursive: true, force: true });
	if (instance) fs.rmSync(instance.userFolder, { recursive: true, force: true }); // n8n is stopped: its folder can go
});

test(`n8n ${n8n.N8N_VERSION}: the example runs on its schedule in \`n8n start\` over ${BATCHES.length} ticks, files added to the bucket between them`, async () => {
	for (const [k, batch] of BATCHES.entries()) {
		const tick = await step(`tick ${k + 1}`, async () => {
			for (const f of batch) await s3.put(BUCKET, f.key, f.bytes, f.type);
			inBucket.push(...batch);
			const before = await creditsLeft();
			const mailsBefore = smtp.messages().length;
			const since = Date.now();
			if (k === 0) {
				// n8n starts with the first batch in the bucket already, so its first tick sees it.
				server = await n8n.startServer(instance, { owner: OWNER });
				cookie = await n8n.login(server.base, OWNER);
			} else {
				// The files went in between two ticks: none started since the previous one finished.
				const previous = ticks.at(-1).execution;
				const between = (await executions()).filter((e) => e.id !== previous.id && Date.parse(e.startedAt) >= Date.parse(previous.startedAt) && Date.parse(e.startedAt) < since);
				if (between.length) throw new Error(`A tick started while the files were being added (executions ${between.map((e) => e.id)}): the interval is too short for this machine`);
			}
			const execution = await tickAfter(since);
			const after = await creditsLeft();
			return { execution, batch, credits: before.credits - after.credits, documents: after.documents - before.documents, mails: smtp.messages().slice(mailsBefore) };
		});
		ticks.push(tick);

		await step(`checking tick ${k + 1} (execution ${tick.execution.id})`, async () => {
			const detected = n8n.nodeOutput(tick.execution, 'Detect AI images');
			// Every file of the bucket's top level, every tick: the stray files are skipped (no credit) and stop nothing.
			expect(detected.map((d) => d.fileName).sort()).toEqual(inBucket.map((f) => f.key).sort());
			for (const d of detected) {
				const file = inBucket.find((f) => f.key === d.fileName);
				if (isStray(file)) {
					expect(d).toMatchObject({ status: 'skipped', fileName: file.key });
					// What it is comes before its size: neither is an image, whatever their sizes.
					expect(d.skipReason).toMatch(/is not an image/);
					continue;
				}
				expect(d).toMatchObject({ status: 'done', score: scoreFor(file.bytes), verdict: verdictFor(scoreFor(file.bytes)), heatmapStatus: hasNoHeatmap(file.bytes) ? 'failed' : 'ready' });
				// reused says no new check was paid for: true for every image of an earlier tick; of the copies of an
				// image new in this tick, exactly one was checked (the others waited for its document).
				const copies = detected.filter((o) => o.status === 'done' && sameBytes(inBucket.find((f) => f.key === o.fileName).bytes, file.bytes));
				if (seenImages.some((b) => sameBytes(b, file.bytes))) expect(d.reused).toBe(true);
				else expect(copies.filter((o) => o.reused === false)).toHaveLength(1);
				// The type came from the bytes where the name or the served type did not say it.
				if (file.key === '8f3a2c' || file.key === 'sunset.jpg') expect(d.detectedType).toBe('image/png');
				// A copy of an image has the same document ID: the ID is derived from the bytes, not the name.
				for (const other of detected) if (other.id === d.id) expect(sameBytes(inBucket.find((f) => f.key === other.fileName).bytes, file.bytes)).toBe(true);
			}

			// Credits only for images never checked before (a copy, within the tick or of an earlier one, is free).
			const newImages = [];
			for (const f of tick.batch) {
				if (isStray(f)) continue;
				if (![...seenImages, ...newImages].some((b) => sameBytes(b, f.bytes))) newImages.push(f.bytes);
			}
			expect({ credits: tick.credits, documents: tick.documents }).toEqual({ credits: newImages.length, documents: newImages.length });

			// One email per new AI-generated image, none for images of earlier ticks or for copies.
			const newAi = newImages.filter((b) => verdictFor(scoreFor(b)) === AI);
			expect(tick.mails).toHaveLength(newAi.length);
			for (const bytes of newAi) {
				const names = tick.batch.filter((f) => sameBytes(f.bytes, bytes)).map((f) => f.key);
				const mails = tick.mails.filter((m) => names.some((name) => m.subject === `AI-generated image in the bucket: ${name}`));
				expect(mails).toHaveLength(1);
				const [mail] = mails;
				const name = names.find((n) => mail.subject.endsWith(n));
				expect(mail.to).toContain(RECIPIENT);
				expect(mail.text).toContain(`Image: ${name}\n`);
				expect(mail.text).toContain(`Verdict: ${AI}\n`);
				expect(mail.text).toContain(`Score: ${scoreFor(bytes)} `);
				const saved = await s3.get(BUCKET, `heatmaps/${stemOf(name)}-heatmap.png`);
				if (hasNoHeatmap(bytes)) {
					// Alerted all the same, saying why there is no heatmap; none is attached or saved.
					expect(mail.attachments).toEqual([]);
					expect(mail.text).toMatch(/No heatmap: .*has no heatmap/);
					expect(saved).toBeUndefined();
					continue;
				}
				// The heatmap is attached under the image's own name, and is the one saved in the bucket.
				expect(mail.attachments.map((a) => a.fileName)).toEqual([`${stemOf(name)}-heatmap.png`]);
				expect(saved).toBeDefined();
				expect(sameBytes(mail.attachments[0].content, saved.bytes)).toBe(true);
			}
			seenImages.push(...newImages);
		});
	}
});

test(`n8n ${n8n.N8N_VERSION}: each new image's heatmap is back in the bucket under heatmaps/, named after its image; copies add none`, async () => {
	expect(ticks.length).toBe(BATCHES.length); // the ticks above ran
	const keys = (await s3.list(BUCKET, 'heatmaps/')).sort();
	// One per distinct image. Of the two copies in one tick the run keeps the first the bucket lists (S3 lists keys
	// in byte order: "forest (copy).png" before "forest.png"); the copy of tick 3 adds none, nor does skyline.png,
	// which has no heatmap.
	const stems = ['8f3a2c', 'beach photo', 'city', 'forest (copy)', 'harbour', 'portrait', 'sunset'];
	expect(keys).toEqual(stems.map((s) => `heatmaps/${s}-heatmap.png`));
	for (const key of keys) {
		const object = await s3.get(BUCKET, key);
		expect(object.contentType).toBe('image/png');
		expect(object.bytes.subarray(1, 4).toString()).toBe('PNG');
	}
	// The heatmaps live one level down, where the listing of the bucket's top level does not see them.
	const lastTick = n8n.nodeOutput(ticks.at(-1).execution, 'Detect AI images');
	expect(lastTick.some((d) => String(d.fileName).includes('heatmap'))).toBe(false);
});

test(`n8n ${n8n.N8N_VERSION}: over all ticks, exactly one email per AI-generated image, and n8n stops by its PID`, async () => {
	expect(ticks.length).toBe(BATCHES.length);
	const all = smtp.messages();
	const distinctAi = seenImages.filter((b) => verdictFor(scoreFor(b)) === AI);
	expect(all).toHaveLength(distinctAi.length);
	expect(distinctAi.length).toBeGreaterThanOrEqual(4);
	expect(seenImages.length - distinctAi.length).toBeGreaterThanOrEqual(2); // and some images are Real
	for (const bytes of distinctAi) {
		const names = inBucket.filter((f) => sameBytes(f.bytes, bytes)).map((f) => f.key);
		expect(all.filter((m) => names.some((n) => m.subject === `AI-generated image in the bucket: ${n}`))).toHaveLength(1);
	}

	const { pid } = server.proc;
	await server.stop();
	expect(server.proc.exited).toBe(true);
	expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' })); // its whole group is gone
});
