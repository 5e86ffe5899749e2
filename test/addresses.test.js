'use strict';
// Which addresses a model may make n8n fetch (tool mode), judged from the URL alone, and redirects judged again
// at every hop. The public host of the redirect test cannot run here, so n8n's HTTP helper is stood in for there.
const path = require('path');

const DIST = path.resolve(__dirname, '..', 'dist', 'nodes', 'UndetectableImage');
const { nonPublicReason } = require(path.join(DIST, 'helpers', 'addresses.js'));
const { Transport, RateGate } = require(path.join(DIST, 'transport', 'transport.js'));

const reason = (url) => nonPublicReason(new URL(url));

describe('non-public addresses', () => {
	test.each([
		['http://127.0.0.1/', 'a loopback address'],
		['http://127.255.0.9:8080/', 'a loopback address'],
		['http://0.0.0.0/', 'a this network address'],
		['http://10.0.0.1/', 'a private address'],
		['http://172.16.0.1/', 'a private address'],
		['http://172.31.255.255/', 'a private address'],
		['http://192.168.1.1/', 'a private address'],
		['http://100.64.0.1/', 'a shared (carrier-grade NAT) address'],
		['http://169.254.169.254/', 'a link-local address'],
		['http://192.0.2.10/', 'a documentation address'],
		['http://224.0.0.1/', 'a multicast address'],
		['http://255.255.255.255/', 'a reserved address'],
		['http://[::]/', 'a unspecified address'],
		['http://[::1]/', 'a loopback address'],
		['http://[fd00::1]/', 'a private (unique local) address'],
		['http://[fe80::1]/', 'a link-local address'],
		['http://[ff02::1]/', 'a multicast address'],
		['http://[::ffff:10.0.0.1]/', 'a private address'],
		['http://[::ffff:7f00:1]/', 'a loopback address'],
		['http://[64:ff9b::a9fe:a9fe]/', 'a link-local address'],
		['http://[2001:db8::1]/', 'a documentation address'],
		['http://[::ffff:0:10.0.0.1]/', 'a private address'],
		['http://[2002:a00:1::]/', 'a 6to4 private address'],
		['http://2130706433/', 'a loopback address'],
		['http://0177.0.0.1/', 'a loopback address'],
		['http://localhost/', "a name without a domain, which only n8n's own network can resolve"],
		['http://LOCALHOST./', "a name without a domain, which only n8n's own network can resolve"],
		['http://n8n.localhost/', 'a local network name (".localhost")'],
		['http://printer.local/', 'a local network name (".local")'],
		['http://metadata.google.internal/', 'a local network name (".internal")'],
		['http://router.home.arpa/', 'a local network name (".home.arpa")'],
	])('%s is %s', (url, why) => {
		expect(reason(url)).toBe(why);
	});

	test.each(['https://example.com/cat.png', 'http://8.8.8.8/', 'http://172.32.0.1/', 'http://100.128.0.1/', 'http://192.169.0.1/', 'http://[2606:4700::1111]/', 'http://[2002:808:808::]/', 'https://cdn.images.example.co.uk/a.jpg', 'http://11.0.0.1/'])(
		'%s is public',
		(url) => {
			expect(reason(url)).toBeUndefined();
		},
	);
});

describe('redirects of an untrusted address', () => {
	/** n8n's HTTP helper, standing in for hosts on the internet: answers from a table, and records every request. */
	function fakeN8n(answers) {
		const requests = [];
		const node = { name: 'Undetectable', type: 'n8n-nodes-undetectable-image.undetectableImageTool', typeVersion: 1, parameters: {} };
		return {
			requests,
			getNode: () => node,
			getExecutionCancelSignal: () => undefined,
			helpers: {
				httpRequest: async (options) => {
					requests.push(options.url);
					const answer = answers[options.url];
					if (!answer) throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
					return { statusCode: answer.status, headers: answer.headers ?? {}, body: require('stream').Readable.from([Buffer.from(answer.body ?? '')]) };
				},
			},
		};
	}
	const settings = { apiKey: 'k-123456', baseUrl: 'https://api.example.com', storageBaseUrl: 'https://storage.example.com' };
	const cap = { maxBytes: 1024 * 1024, tooLarge: 'too large' };
	const get = (url, untrusted) => ({ purpose: 'downloading the image from its URL', method: 'GET', url, binary: true, cap, answerer: 'imageUrl', retry: 'safe', untrusted });

	test('a public address that redirects to a private one is refused at that hop: the private host gets nothing', async () => {
		const n8n = fakeN8n({ 'https://images.example.com/cat.png': { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } } });
		const transport = new Transport(n8n, settings, new RateGate());
		await expect(transport.send(get('https://images.example.com/cat.png', { allowPrivate: false }))).rejects.toThrow(/169\.254\.169\.254 is a link-local address, which an AI tool may not fetch/);
		expect(n8n.requests).toEqual(['https://images.example.com/cat.png']);
	});

	test('with private addresses allowed, or outside tool mode, the redirect is followed', async () => {
		const answers = {
			'https://images.example.com/cat.png': { status: 302, headers: { location: 'http://10.0.0.5/cat.png' } },
			'http://10.0.0.5/cat.png': { status: 200, headers: { 'content-type': 'image/png' }, body: 'png-bytes' },
		};
		for (const untrusted of [{ allowPrivate: true }, undefined]) {
			const n8n = fakeN8n(answers);
			const reply = await new Transport(n8n, settings, new RateGate()).send(get('https://images.example.com/cat.png', untrusted));
			expect(reply.body.toString()).toBe('png-bytes');
			expect(n8n.requests).toEqual(['https://images.example.com/cat.png', 'http://10.0.0.5/cat.png']);
		}
	});

	test("n8n's own SSRF protection refusing a request is said as such, and not retried", async () => {
		const n8n = fakeN8n({});
		n8n.helpers.httpRequest = async (options) => {
			n8n.requests.push(options.url);
			throw Object.assign(new Error('The request was blocked because it resolves to a restricted IP address'), { name: 'SsrfBlockedIpError' });
		};
		await expect(new Transport(n8n, settings, new RateGate()).send(get('https://inside.example.com/x.png', { allowPrivate: true }))).rejects.toThrow(/n8n's SSRF protection blocked it/);
		expect(n8n.requests).toHaveLength(1);
	});
});
