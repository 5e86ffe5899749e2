// Bad input is refused with a message that says what is wrong and how to fix it, before any request is sent.
const { useSimulator, imageItem } = require('../harness/setup');
const { image } = require('../harness/fixtures');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });

/** Runs the node and asserts it failed on item 0 with `message` (and `fix` in the description), sending nothing. */
async function refused(parameters, items, message, fix) {
	const from = ctx.sim.requests.length;
	const r = await ctx.run(parameters, items);
	expect(r.error).toBeDefined();
	expect(r.error.message).toMatch(message);
	if (fix) expect(r.error.description).toMatch(fix);
	expect(r.error.context.itemIndex).toBe(items ? items.length - 1 : 0);
	expect(ctx.sim.requests.slice(from)).toEqual([]);
	return r;
}

describe('Detect checks every item before it submits any', () => {
	const six = () => [
		...Array.from({ length: 5 }, (_, k) => imageItem(image.jpeg(2000 + k * 100, 40 + k), `ok-${k}.jpg`, 'image/jpeg')),
		imageItem(Buffer.from('this is not an image '.repeat(100)), 'fake.png', 'image/png'),
	];

	test('item 5 of 6 is a text file named .png: the run stops on it before any image is sent or billed', async () => {
		const credits = ctx.sim.credits();
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect(), six());
		expect(r.error.message).toMatch(/"fake.png" is not an image/);
		expect(r.error.context.itemIndex).toBe(5);
		expect(ctx.sim.requests.slice(from)).toEqual([]);
		expect(ctx.sim.credits()).toBe(credits);
	});

	test('with Continue On Fail the five good images are checked, and the bad one is an error item in its place', async () => {
		const credits = ctx.sim.credits();
		const r = await ctx.run(detect(), six(), { continueOnFail: true });
		expect(r.items.map((i) => i.json.status ?? 'error')).toEqual(['done', 'done', 'done', 'done', 'done', 'error']);
		expect(r.items[5].json.error).toMatch(/"fake.png" is not an image/);
		expect(r.items.map((i) => i.pairedItem.item)).toEqual([0, 1, 2, 3, 4, 5]);
		expect(ctx.sim.credits()).toBe(credits - 5);
	});

	test('a Timeout that is not a positive number is refused before anything is sent', async () => {
		await refused(detect({ options: { timeout: -5 } }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg')], /Timeout option "-5" is not a positive number/, /above 0/);
	});
});

describe('Detect refuses bad input before any request', () => {
	test('a missing binary property names the ones the item has', async () => {
		await refused(detect({ binaryPropertyName: 'photo' }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg', 'file')], /no binary field "photo"/, /are: file/);
	});

	test('an item with no binary data at all says how to get some', async () => {
		await refused(detect(), [{ json: { a: 1 } }], /no binary field "data"/, /Read\/Write Files from Disk|Image URL/);
	});

	test('a file under 1 KB', async () => {
		await refused(detect(), [imageItem(image.jpeg(900), 'tiny.jpg', 'image/jpeg')], /too small \(900 bytes; at least 1 KB\)/, /larger image/);
	});

	test('a file over 10 MB', async () => {
		await refused(detect(), [imageItem(image.jpeg(10 * 1024 * 1024 + 1), 'huge.jpg', 'image/jpeg')], /too large \(10.0 MB; at most 10 MB\)/, /Compress/);
	});

	test('a file that is no image, whatever its name says', async () => {
		await refused(detect(), [imageItem(Buffer.alloc(4000, 65), 'notes.txt', 'text/plain')], /"notes.txt" is not an image: neither its bytes nor its name/, /JPG, JPEG, PNG/);
	});

	test('a ZIP is sent to Bulk Detect', async () => {
		const { zipOf } = require('../harness/fixtures');
		await refused(detect(), [imageItem(zipOf([{ name: 'a.png', data: image.png(3000) }]), 'pics.png', 'image/png')], /"pics.png" is a ZIP archive/, /Bulk Detect/);
	});

	test('an HTML page saved under an image name', async () => {
		await refused(detect(), [imageItem(image.html(3000), 'photo.jpg', 'image/jpeg')], /is not an image/, /HTML error page/);
	});

	test('empty data', async () => {
		await refused(detect(), [imageItem(Buffer.alloc(0), 'photo.jpg', 'image/jpeg')], /is empty/);
	});

	test('an empty image URL', async () => {
		await refused(detect({ inputSource: 'url', imageUrl: '  ' }), undefined, /Image URL is empty/, /http/);
	});

	test('an image URL that is not a URL', async () => {
		await refused(detect({ inputSource: 'url', imageUrl: 'photo.jpg' }), undefined, /is not a valid URL/);
	});

	test('an image URL that is not http(s)', async () => {
		await refused(detect({ inputSource: 'url', imageUrl: 'file:///etc/passwd' }), undefined, /must start with http/);
	});

	test('a malformed model or instance id', async () => {
		await refused(detect({ options: { model: 'gpt-4' } }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg')], /Model "gpt-4" is not valid/, /sheerid/);
		await refused(detect({ options: { model: 'bad instance/generic' } }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg')], /Model "bad instance\/generic" is not valid/);
	});

	test('a malformed own document id', async () => {
		await refused(detect({ options: { documentId: 'my-id-1' } }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg')], /Document ID option "my-id-1" is not a valid ID/);
	});

	test('a malformed email', async () => {
		await refused(detect({ options: { email: 'not-an-email' } }), [imageItem(image.jpeg(), 'a.jpg', 'image/jpeg')], /is not an email address/);
	});

	test('the failing item is named when several come in', async () => {
		const items = [imageItem(image.jpeg(2000, 1), 'a.jpg', 'image/jpeg'), imageItem(image.jpeg(500), 'b.jpg', 'image/jpeg')];
		const r = await ctx.run(detect({ options: { concurrency: 1 } }), items);
		expect(r.error.message).toMatch(/"b.jpg" is too small/);
		expect(r.error.context.itemIndex).toBe(1);
	});
});

describe('Get Result and downloads refuse a malformed id before any request', () => {
	test.each(['getResult', 'downloadHeatmap', 'downloadPreview'])('%s', async (operation) => {
		// An expression that finds no id (an empty literal is refused by n8n itself, as a required parameter).
		await refused({ resource: 'image', operation, documentId: '={{ $json.id ?? "" }}' }, undefined, /Document ID is empty/, /Map the "id" field/);
		await refused({ resource: 'image', operation, documentId: 'abc' }, undefined, /"abc" is not a valid ID/);
	});
});

describe('a credential that cannot work', () => {
	test('an empty key', async () => {
		const from = ctx.sim.requests.length;
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, undefined, {
			credentials: { ...ctx.credentials, apiKey: '' },
		});
		expect(r.error.message).toMatch(/no API key/);
		expect(ctx.sim.requests.slice(from)).toEqual([]);
	});

	test('a base URL that is not a URL', async () => {
		const r = await ctx.run({ resource: 'account', operation: 'getCredits' }, undefined, {
			credentials: { ...ctx.credentials, baseUrl: 'ai-image-detect' },
		});
		expect(r.error.message).toMatch(/API Base URL "ai-image-detect" is not a valid URL/);
	});
});
