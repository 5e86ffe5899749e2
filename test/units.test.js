'use strict';
// The pure parts of the node, on their own: names, ZIPs, the rate gate, the poller's learning, error mapping.
// Everything else is tested through n8n's engine against the simulator.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const DIST = path.resolve(__dirname, '..', 'dist', 'nodes', 'UndetectableImage');
const files = require(path.join(DIST, 'helpers', 'files.js'));
const zip = require(path.join(DIST, 'helpers', 'zip.js'));
const { packIntoZips } = require(path.join(DIST, 'actions', 'image', 'bulkDetect.operation.js'));
const { RateGate } = require(path.join(DIST, 'transport', 'transport.js'));
const { Poller } = require(path.join(DIST, 'api', 'poller.js'));
const errors = require(path.join(DIST, 'transport', 'errors.js'));
const { timing } = require(path.join(DIST, 'transport', 'timing.js'));
const { readZip } = require('./simulator/zip-reader');
const { image } = require('./harness/fixtures');

describe('file names', () => {
	test.each([
		['C:\\Users\\me\\My Photo.JPG', undefined, 'My_Photo.JPG'],
		['/srv/uploads/été à la plage.png', undefined, 'ete_a_la_plage.png'],
		['photo', 'image/webp', 'photo.webp'],
		['', 'image/png', 'image.png'],
		[undefined, 'image/jpeg; charset=binary', 'image.jpg'],
		['..hidden.png', undefined, 'hidden.png'],
		['a%20b%2Bc.gif', undefined, 'a_b_c.gif'],
		['report', undefined, 'report'],
	])('%p (%p) -> %p', (raw, mime, expected) => {
		expect(files.normaliseFileName(raw, mime)).toBe(expected);
	});

	test('a long name keeps its extension within 120 characters', () => {
		const name = files.normaliseFileName(`${'x'.repeat(300)}.jpeg`);
		expect(name.length).toBeLessThanOrEqual(120);
		expect(name.endsWith('.jpeg')).toBe(true);
	});

	test('bytes are sniffed, and they decide the type, whatever the name or MIME type say', () => {
		expect(files.sniffExtension(image.png(2000, 1))).toBe('png');
		expect(files.sniffExtension(image.jpeg(2000, 1))).toBe('jpg');
		expect(files.sniffExtension(Buffer.from('<?xml version="1.0"?><svg xmlns="x"></svg>'))).toBe('svg');
		expect(files.sniffExtension(Buffer.from('<html>nope</html>'))).toBeUndefined();
		// "BM" starts many a text file; a BMP has a DIB header of a known size at byte 14.
		expect(files.sniffExtension(Buffer.from('BM is for Bob Marley, whose songs I like a lot'))).toBeUndefined();
		const bmp = Buffer.alloc(2000);
		bmp.write('BM', 0, 'latin1');
		bmp.writeUInt32LE(40, 14);
		expect(files.sniffExtension(bmp)).toBe('bmp');
		// Agreeing: the name's own extension is kept (jpeg stays jpeg), and nothing is said.
		expect(files.checkImage('x.jpeg', image.jpeg(2000, 1))).toEqual({ ext: 'jpeg', contentType: 'image/jpeg', fromBytes: false });
		expect(files.checkImage('x', image.png(2000, 1), true, 'image/png')).toEqual({ ext: 'png', contentType: 'image/png', fromBytes: false });
		// A name that lies, no name and a generic MIME type, a wrong MIME type: the bytes decide, and it is said.
		expect(files.checkImage('x.jpg', image.png(2000, 1))).toEqual({ ext: 'png', contentType: 'image/png', fromBytes: true });
		expect(files.checkImage('8f3a2c', image.png(2000, 1), true, 'application/octet-stream')).toEqual({ ext: 'png', contentType: 'image/png', fromBytes: true });
		expect(files.checkImage('photo', image.jpeg(2000, 1), true, 'image/png')).toMatchObject({ ext: 'jpg', fromBytes: true });
		expect(files.checkImage('phone.heif', image.heic(2000, 1))).toMatchObject({ ext: 'heif', contentType: 'image/heif', fromBytes: false });
		// What is no image stays refused, by its bytes.
		expect(() => files.checkImage('x.png', image.html(2000))).toThrow('is not an image: its bytes are not PNG');
		expect(() => files.checkImage('notes', Buffer.alloc(2000, 65), true, 'application/octet-stream')).toThrow('neither its bytes nor its name');
		expect(() => files.checkImage('doc.png', image.pdf(2000), false)).toThrow('bulk detection does not support');
		expect(files.checkImage('doc.png', image.pdf(2000))).toMatchObject({ ext: 'pdf', fromBytes: true });
	});

	test('the upload name: cleaned, with the extension of the type used', () => {
		const png = { ext: 'png', contentType: 'image/png', fromBytes: true };
		expect(files.uploadNameFor('beach photo.jpg', png)).toBe('beach_photo.png');
		expect(files.uploadNameFor('8f3a2c', png)).toBe('8f3a2c.png');
		expect(files.uploadNameFor('report.final', png)).toBe('report.final.png');
		expect(files.uploadNameFor(undefined, png, 'image-3')).toBe('image-3.png');
		expect(files.uploadNameFor('Holiday.PNG', { ...png, fromBytes: false })).toBe('Holiday.PNG');
		expect(files.stemOf('beach photo.png')).toBe('beach photo');
		expect(files.stemOf('folder/x')).toBe('x');
	});

	test('document IDs and models', () => {
		expect(files.checkDocumentId(' 77565038-9E3D-4E6A-8C80-E20785BE5EE9 ')).toBe('77565038-9e3d-4e6a-8c80-e20785be5ee9');
		expect(() => files.checkDocumentId('abc')).toThrow('is not a valid ID');
		expect(files.checkModel('inst_1/generic')).toBe('inst_1/generic');
		expect(() => files.checkModel('gpt-4')).toThrow('is not valid');
	});
});

describe('ZIPs', () => {
	test('crc32 of the standard check string', () => {
		expect(zip.crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
	});

	test('a written ZIP has the planned size, lists back, and two other readers (one checks every CRC) read it', async () => {
		const contents = [image.png(3000, 1), image.jpeg(5000, 2), Buffer.from('é'.repeat(700))];
		const entries = contents.map((bytes, k) => ({ name: ['a.png', 'dir/b.jpg', 'ünï.txt'][k], size: bytes.length, crc: zip.crc32(bytes) }));
		const written = await zip.writeStoredZip(entries, async (k) => contents[k]);
		expect(written.length).toBe(zip.zipSize(entries));
		expect(zip.listZip(written)).toEqual(entries.map((e) => ({ name: e.name, size: e.size, directory: false })));
		expect(readZip(written).map((e) => e.data)).toEqual(contents);

		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-zip-'));
		fs.writeFileSync(path.join(dir, 'x.zip'), written);
		const py = 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print(",".join(z.namelist()))';
		const out = execFileSync('python3', ['-c', py, path.join(dir, 'x.zip')], { encoding: 'utf8' }).trim().split('\n');
		fs.rmSync(dir, { recursive: true, force: true });
		expect(out).toEqual(['None', 'a.png,dir/b.jpg,ünï.txt']);
	});

	test('bytes that changed since planning are refused, not written', async () => {
		const bytes = image.png(3000, 1);
		await expect(zip.writeStoredZip([{ name: 'a.png', size: bytes.length, crc: zip.crc32(bytes) }], async () => image.png(3000, 2))).rejects.toThrow('changed while the ZIP was being built');
	});

	test('a ZIP read as a stream keeps only its ends, and lists from its tail alone', async () => {
		const contents = Array.from({ length: 30 }, (_, k) => image.jpeg(40_000, 300 + k));
		const entries = contents.map((bytes, k) => ({ name: `p${k}.jpg`, size: bytes.length, crc: zip.crc32(bytes) }));
		const whole = await zip.writeStoredZip(entries, async (k) => contents[k]);
		async function* chunks(size) {
			for (let at = 0; at < whole.length; at += size) yield whole.subarray(at, at + size);
		}
		const ends = await zip.readEnds(chunks(7000), 4096, 20_000);
		expect(ends.head).toEqual(whole.subarray(0, 4096));
		expect(ends.tail.length).toBeLessThan(20_000 + 7000);
		expect(ends.tailStart + ends.tail.length).toBe(whole.length);
		expect(zip.listZip(ends.tail, ends.tailStart)).toEqual(zip.listZip(whole));
		// A directory that starts before the tail kept cannot be listed from it: the caller reads the whole file.
		const short = await zip.readEnds(chunks(500), 4096, 100);
		expect(short.tail.length).toBeLessThan(1000);
		expect(zip.listZip(short.tail, short.tailStart)).toBeUndefined();
	});

	test('an unreadable ZIP lists as undefined', () => {
		expect(zip.listZip(Buffer.from('PK\u0003\u0004 not really a zip, no directory at the end'))).toBeUndefined();
	});

	test('packing: at most 50 images and 100 MB per ZIP, names unique within each, order kept', () => {
		const images = Array.from({ length: 120 }, (_, k) => ({ name: k % 2 ? 'same.jpg' : `img-${k}.jpg`, size: 2000, crc: k, itemIndex: k }));
		const zips = packIntoZips(images);
		expect(zips.map((z) => z.length)).toEqual([50, 50, 20]);
		expect(zips.flat().map((i) => i.itemIndex)).toEqual(images.map((i) => i.itemIndex));
		for (const z of zips) expect(new Set(z.map((i) => i.name.toLowerCase())).size).toBe(z.length);
		expect(zips[0].filter((i) => i.name.startsWith('same')).map((i) => i.name).slice(0, 3)).toEqual(['same.jpg', 'same-2.jpg', 'same-3.jpg']);

		const big = Array.from({ length: 12 }, (_, k) => ({ name: `big-${k}.jpg`, size: 9.9 * 1024 * 1024, crc: k, itemIndex: k }));
		const bySize = packIntoZips(big);
		expect(bySize.map((z) => z.length)).toEqual([10, 2]);
		for (const z of bySize) expect(zip.zipSize(z)).toBeLessThanOrEqual(files.MAX_ZIP_BYTES);
	});
});

describe('the rate gate', () => {
	test('a 429 pauses every caller for the time asked, and halves how many may run at once', async () => {
		const gate = new RateGate();
		const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
		for (let k = 0; k < 4; k++) expect(await gate.acquire()).toBe('ok');
		// As the transport does: the 429's own turn ends, then the gate slows down (3 still in flight: limit 2).
		gate.release(true);
		const pausedAt = Date.now();
		gate.slowDown(150);
		const order = [];
		const turns = [1, 2].map((k) => gate.acquire().then(() => order.push([k, Date.now() - pausedAt])));
		await sleep(250);
		expect(order).toEqual([]); // paused, then 3 in flight is over the limit of 2
		gate.release(false);
		gate.release(false); // two succeed: 1 in flight, and the limit grows a little with each success
		await Promise.all(turns);
		expect(order.map(([k]) => k).sort()).toEqual([1, 2]); // both, in either order: they woke in the same ms
		for (const [, at] of order) expect(at).toBeGreaterThanOrEqual(150); // not before the pause ended
	});

	test('a pause that would end past the deadline fails at once', async () => {
		const gate = new RateGate();
		gate.slowDown(60_000);
		const started = Date.now();
		expect(await gate.acquire(undefined, Date.now() + 5000)).toBe('late');
		expect(Date.now() - started).toBeLessThan(100);
	});

	test('a cancel ends a wait for a turn at once, without one', async () => {
		const gate = new RateGate();
		gate.slowDown(60_000);
		const controller = new AbortController();
		const started = Date.now();
		const turn = gate.acquire(controller.signal);
		setTimeout(() => controller.abort(), 30);
		expect(await turn).toBe('cancelled');
		expect(Date.now() - started).toBeLessThan(1000);
	});
});

describe("the poller's learning", () => {
	/** A fake service: each id is done `readyMs` after its submission; counts the queries per id. */
	function service(readyMs) {
		const submitted = new Map();
		const queries = new Map();
		return {
			submit: (id) => submitted.set(id, Date.now()),
			queries,
			query: async (id) => {
				queries.set(id, (queries.get(id) ?? 0) + 1);
				return { id, status: Date.now() - submitted.get(id) >= readyMs ? 'done' : 'pending' };
			},
		};
	}
	const saved = structuredClone(timing);
	beforeEach(() => Object.assign(timing, { firstQueryMs: { result: 100 }, queryIntervalMs: 40, maxQueryIntervalMs: 400 }));
	afterAll(() => Object.assign(timing, saved));
	const watch = (id, submittedAt) => ({ id, phase: 'result', isFinished: (a) => a?.status === 'done', deadline: Date.now() + 10_000, submittedAt });

	test('ten documents started together: one probes, the others wait for its estimate and ask about once', async () => {
		const api = service(300);
		const poller = new Poller(api.query);
		const ids = Array.from({ length: 10 }, (_, k) => `d${k}`);
		const now = Date.now();
		ids.forEach((id) => api.submit(id));
		await Promise.all(ids.map((id) => poller.wait(watch(id, now))));
		const counts = ids.map((id) => api.queries.get(id));
		// The probe misses a few times (first at 100 ms for a 300 ms job); each other document asks once or twice.
		expect(counts.filter((n) => n > 2)).toHaveLength(1);
		expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10 + 6);
	});

	test('what it learned carries to the next document: its first query comes when such work is usually done', async () => {
		const api = service(250);
		const poller = new Poller(api.query);
		api.submit('first');
		await poller.wait(watch('first', Date.now()));
		api.submit('second');
		const started = Date.now();
		await poller.wait(watch('second', started));
		expect(api.queries.get('second')).toBe(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(250);
	});

	test('an ID from elsewhere teaches nothing (its start is unknown) and is asked at once when immediate', async () => {
		const api = service(0);
		const poller = new Poller(api.query);
		api.submit('old');
		const started = Date.now();
		await poller.wait({ id: 'old', phase: 'result', isFinished: (a) => a?.status === 'done', deadline: Date.now() + 5000, immediate: true });
		expect(Date.now() - started).toBeLessThan(80);
		expect(poller.learned.size).toBe(0);
	});

	test('the deadline ends a wait with the last answer', async () => {
		const api = service(60_000);
		const poller = new Poller(api.query);
		api.submit('slow');
		const outcome = await poller.wait({ ...watch('slow', Date.now()), deadline: Date.now() + 300 });
		expect(outcome).toEqual({ answer: { id: 'slow', status: 'pending' }, timedOut: true });
	});
});

describe('error mapping', () => {
	test.each([
		[{ detail: 'User verification failed' }, 'User verification failed'],
		[{ detail: [{ loc: ['body', 'url'], msg: 'field required' }, { loc: ['body'], msg: 'bad' }] }, 'url: field required; bad'],
		[{ message: 'Not ready' }, 'Not ready'],
		['<Error><Code>SignatureDoesNotMatch</Code><Message>The signature is wrong</Message></Error>', 'SignatureDoesNotMatch: The signature is wrong'],
		['<Error><Message>Only a message</Message></Error>', 'Only a message'],
		[null, undefined],
	])('the reason in %j is %p', (body, reason) => {
		expect(errors.reasonFromBody(body)).toBe(reason);
	});

	test('the fix follows the reason first, then the status', () => {
		expect(errors.hintFor(403, 'Not enough credits')).toMatch(/Buy more credits/);
		expect(errors.hintFor(403, 'something else')).toMatch(/API key is invalid, access was denied/);
		expect(errors.hintFor(502, undefined)).toMatch(/gateway/);
		expect(errors.hintFor(599, undefined)).toMatch(/internal error/);
		expect(errors.hintFor(undefined, undefined)).toMatch(/Check the node parameters/);
	});

	test('redaction hides every copy of a secret, and leaves short strings alone', () => {
		expect(errors.redact('key sk-12345 and again sk-12345.', ['sk-12345'])).toBe('key *** and again ***.');
		expect(errors.redact('abc', ['ab'])).toBe('abc');
	});
});

describe('ZIP64', () => {
	test('listZip reads the sizes and the directory of a zip -fz archive', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-z64-'));
		const a = image.jpeg(3000, 1);
		const b = image.png(5000, 2);
		fs.writeFileSync(path.join(dir, 'a.jpg'), a);
		fs.writeFileSync(path.join(dir, 'b.png'), b);
		execFileSync('zip', ['-q', '-fz', '-0', 'x.zip', 'a.jpg', 'b.png'], { cwd: dir });
		const bytes = fs.readFileSync(path.join(dir, 'x.zip'));
		fs.rmSync(dir, { recursive: true, force: true });
		expect(zip.listZip(bytes)).toEqual([
			{ name: 'a.jpg', size: a.length, directory: false },
			{ name: 'b.png', size: b.length, directory: false },
		]);
	});
});
