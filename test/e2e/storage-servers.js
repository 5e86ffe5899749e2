'use strict';
// Real servers on loopback for the scheduled storage flow's end-to-end test, each in its own process group (as a
// real server would be: the test reaches them only over the network, and stops them by PID):
// - an S3-compatible object store (s3rver, with the Signature Version 4 check it lacks added here) that logs every
//   request;
// - an SMTP server (smtp-server, from the nodemailer project) that requires a login and spools every message it
//   accepts to a folder as an .eml file, which the test reads and parses (subject, text, attachments).
//
// The same file is the servers' program: node test/e2e/storage-servers.js s3|smtp '<options JSON>' prints one JSON
// line with its address once it listens.
const fs = require('fs');
const path = require('path');

const S3_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }; // the keys s3rver accepts
const SMTP_LOGIN = { user: 'alerts', password: 'smtp-test-password' };

// ---------------------------------------------------------------------------------------------------------------
// The servers' side (in the child process).

async function serveS3({ directory, buckets }) {
	const http = require('http');
	const S3rver = require('s3rver');
	const s3rver = new S3rver({ directory, silent: true, configureBuckets: buckets.map((name) => ({ name, configs: [] })), vhostBuckets: false });
	await s3rver.configureBuckets();
	const handle = s3rver.callback();
	// One line per request, for the test's failure messages (what n8n asked for, and what it got).
	const server = http.createServer((req, res) => {
		res.on('finish', () => process.stdout.write(`S3 ${req.method} ${req.url} -> ${res.statusCode}\n`));
		const refused = signatureProblem(req);
		if (!refused) return handle(req, res);
		res.writeHead(403, { 'content-type': 'application/xml' });
		res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>${refused}</Message></Error>`);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}` })}\n`);
	return () => new Promise((resolve) => server.close(resolve));
}

const rfc3986 = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data) => require('crypto').createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => require('crypto').createHmac('sha256', key).update(data).digest();

/**
 * Why a signed request must be refused, or undefined: s3rver checks only the access key of a Signature Version 4
 * request, so this checks the signature itself, as S3 does (a wrong secret or region in the n8n credential then
 * fails here as it would at a real bucket). The payload is taken as its x-amz-content-sha256 header says.
 * Unsigned requests (the test's own) pass.
 */
function signatureProblem(req) {
	const auth = req.headers.authorization;
	if (!auth) return undefined;
	const m = auth.match(/^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/);
	if (!m) return 'Only Signature Version 4 in the Authorization header is accepted here';
	const [, keyId, date, region, service, signedHeaders, signature] = m;
	if (keyId !== S3_KEY.accessKeyId) return `Unknown access key ${keyId}`;
	const [rawPath, rawQuery = ''] = req.url.split(/\?(.*)/s);
	const query = rawQuery
		.split('&')
		.filter(Boolean)
		.map((pair) => pair.split(/=(.*)/s).map((part) => rfc3986(decodeURIComponent((part ?? '').replace(/\+/g, ' ')))))
		.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
		.map(([k, v]) => `${k}=${v}`)
		.join('&');
	const names = signedHeaders.split(';');
	const headers = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
	// As S3 does: each path segment decoded, then encoded per RFC 3986 (a client may send "(" as it is).
	const canonicalPath = rawPath.split('/').map((segment) => rfc3986(decodeURIComponent(segment))).join('/');
	const canonical = [req.method, canonicalPath, query, headers, signedHeaders, req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'].join('\n');
	const scope = `${date}/${region}/${service}/aws4_request`;
	const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
	let key = `AWS4${S3_KEY.secretAccessKey}`;
	for (const part of [date, region, service, 'aws4_request']) key = hmac(key, part);
	if (hmac(key, toSign).toString('hex') !== signature) return `The signature does not match (scope ${scope}): check the secret key and the region`;
	return undefined;
}

async function serveSmtp({ spool }) {
	const { SMTPServer } = require('smtp-server');
	fs.mkdirSync(spool, { recursive: true });
	let seq = 0;
	const server = new SMTPServer({
		logger: false,
		// Plain SMTP on loopback with a login: the n8n credential has SSL/TLS off and STARTTLS disabled.
		disabledCommands: ['STARTTLS'],
		allowInsecureAuth: true,
		authMethods: ['PLAIN', 'LOGIN'],
		onAuth(auth, session, callback) {
			if (auth.username === SMTP_LOGIN.user && auth.password === SMTP_LOGIN.password) return callback(null, { user: auth.username });
			process.stdout.write(`SMTP login refused for ${auth.username}\n`);
			return callback(new Error('Invalid username or password'));
		},
		onData(stream, session, callback) {
			const chunks = [];
			stream.on('data', (c) => chunks.push(c));
			stream.on('end', () => {
				const n = String(++seq).padStart(4, '0');
				const file = path.join(spool, `${n}.eml`);
				// Written whole, then renamed: the test never reads half a message.
				fs.writeFileSync(`${file}.part`, Buffer.concat(chunks));
				fs.renameSync(`${file}.part`, file);
				process.stdout.write(`SMTP message ${n} from ${session.envelope.mailFrom?.address} to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}\n`);
				callback();
			});
		},
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	process.stdout.write(`${JSON.stringify({ host: '127.0.0.1', port: server.server.address().port })}\n`);
	return () => new Promise((resolve) => server.close(resolve));
}

if (require.main === module) {
	const [kind, options] = process.argv.slice(2);
	const serve = { s3: serveS3, smtp: serveSmtp }[kind];
	if (!serve) {
		console.error('usage: storage-servers.js s3|smtp <options JSON>');
		process.exit(2);
	}
	serve(JSON.parse(options || '{}')).then(
		(close) => {
			const stop = () => close().then(() => process.exit(0));
			process.on('SIGTERM', stop);
			process.on('SIGINT', stop);
		},
		(error) => {
			console.error(error);
			process.exit(1);
		},
	);
}

// ---------------------------------------------------------------------------------------------------------------
// The test's side.

/** Starts `storage-servers.js <kind>` in its own process group; resolves with its address line and the process. */
async function startServerProcess(kind, options, ms = 20_000) {
	const { startProcess } = require('../../demo/n8n');
	let ready;
	const first = new Promise((resolve) => (ready = resolve));
	const proc = startProcess(process.execPath, [__filename, kind, JSON.stringify(options)], process.env, (line) => {
		if (line.startsWith('{')) ready(JSON.parse(line));
	});
	let timer;
	const address = await Promise.race([
		first,
		proc.done.then(({ code, signal }) => Promise.reject(new Error(`The ${kind} server exited (${code ?? signal}) before it listened:\n${proc.output}`))),
		new Promise((resolve, reject) => (timer = setTimeout(() => reject(new Error(`The ${kind} server did not listen within ${ms / 1000} s:\n${proc.output}`)), ms))),
	]).finally(() => clearTimeout(timer));
	return { address, proc };
}

/** The object key as a URL path: each segment encoded, the slashes kept. */
const keyPath = (key) => key.split('/').map(encodeURIComponent).join('/');

const xmlText = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/**
 * An S3-compatible server on loopback with the given buckets, its data in `directory`. The test's own calls are
 * anonymous (s3rver allows them); n8n's are signed with `S3_KEY`, and their signatures are checked.
 */
async function startS3({ directory, buckets }) {
	const { address, proc } = await startServerProcess('s3', { directory, buckets });
	const { endpoint } = address;
	const s3 = {
		endpoint,
		...S3_KEY,
		proc,
		async put(bucket, key, bytes, contentType) {
			const r = await fetch(`${endpoint}/${bucket}/${keyPath(key)}`, { method: 'PUT', body: bytes, headers: { 'content-type': contentType } });
			if (!r.ok) throw new Error(`PUT ${key} answered ${r.status}: ${await r.text()}`);
		},
		/** The object, or undefined when there is none: { bytes, contentType }. */
		async get(bucket, key) {
			const r = await fetch(`${endpoint}/${bucket}/${keyPath(key)}`);
			if (r.status === 404) return undefined;
			if (!r.ok) throw new Error(`GET ${key} answered ${r.status}: ${await r.text()}`);
			return { bytes: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get('content-type') };
		},
		/** Every key in the bucket under `prefix` (all levels). */
		async list(bucket, prefix = '') {
			const r = await fetch(`${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
			if (!r.ok) throw new Error(`Listing ${bucket} answered ${r.status}: ${await r.text()}`);
			return [...(await r.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlText(m[1]));
		},
		/** The requests the server answered, one line each ("GET /bucket?... -> 200"). */
		requests: () => proc.output.split('\n').filter((l) => l.startsWith('S3 ')).map((l) => l.slice(3)),
		stop: () => proc.stop(5000),
	};
	return s3;
}

/** An SMTP server on loopback that takes a login (`SMTP_LOGIN`) and keeps every message in `spool`. */
async function startSmtp({ spool }) {
	const { address, proc } = await startServerProcess('smtp', { spool });
	return {
		...address,
		...SMTP_LOGIN,
		proc,
		/** Every message received so far, in the order received, parsed. */
		messages: () =>
			fs
				.readdirSync(spool)
				.filter((f) => f.endsWith('.eml'))
				.sort()
				.map((f) => ({ file: f, ...parseMessage(fs.readFileSync(path.join(spool, f))) })),
		stop: () => proc.stop(5000),
	};
}

// ---------------------------------------------------------------------------------------------------------------
// Just enough MIME (RFC 2045-2047, 2231) to read what nodemailer sends: headers, multipart, base64 and
// quoted-printable bodies, encoded words, and attachment names split or encoded by RFC 2231.

function splitHead(buffer) {
	const text = buffer.toString('latin1');
	const at = text.search(/\r?\n\r?\n/);
	const head = at < 0 ? text : text.slice(0, at);
	const bodyStart = at < 0 ? text.length : at + text.slice(at).match(/^\r?\n\r?\n/)[0].length;
	const headers = {};
	for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { headers, body: buffer.subarray(Buffer.byteLength(text.slice(0, bodyStart), 'latin1')) };
}

function decodeWords(value) {
	return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_, charset, enc, text) => {
		const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1'));
		return bytes.toString(/utf-?8/i.test(charset) ? 'utf8' : 'latin1');
	});
}

/** `type/sub; a="x"; b*=utf-8''%20; c*0="..."; c*1="..."` -> { value, params }. */
function parseParams(header = '') {
	const [value, ...rest] = header.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/);
	const parts = {};
	for (const p of rest) {
		const eq = p.indexOf('=');
		if (eq < 0) continue;
		let name = p.slice(0, eq).trim().toLowerCase();
		let v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
		const m = name.match(/^(.+?)\*(\d+)?(\*)?$/); // RFC 2231: name*, name*0, name*0*
		if (m) {
			const encoded = m[3] || (m[2] === undefined && name.endsWith('*'));
			name = m[1];
			if (encoded) {
				const charsetSplit = v.match(/^([^']*)'[^']*'(.*)$/);
				if (charsetSplit) v = charsetSplit[2];
				v = Buffer.from(v.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
			}
			(parts[name] ??= []).push([Number(m[2] ?? 0), v]);
		} else (parts[name] ??= []).push([0, decodeWords(v)]);
	}
	const params = Object.fromEntries(Object.entries(parts).map(([k, vs]) => [k, vs.sort((a, b) => a[0] - b[0]).map((x) => x[1]).join('')]));
	return { value: value.trim().toLowerCase(), params };
}

function decodeQuotedPrintable(buffer) {
	const text = buffer.toString('latin1').replace(/=\r?\n/g, '');
	return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

function decodeBody(body, encoding = '') {
	const e = encoding.toLowerCase();
	if (e === 'base64') return Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64');
	if (e === 'quoted-printable') return decodeQuotedPrintable(body);
	return body;
}

/** The leaf parts of a MIME entity: [{ headers, type, params, disposition, content }]. */
function leaves(buffer) {
	const { headers, body } = splitHead(buffer);
	const type = parseParams(headers['content-type'] || 'text/plain');
	if (type.value.startsWith('multipart/') && type.params.boundary) {
		const text = body.toString('latin1');
		const delimiter = `--${type.params.boundary}`;
		const pieces = text.split(new RegExp(`\\r?\\n?${delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
		// pieces[0] is the preamble; the last piece starts with "--" (the closing delimiter).
		return pieces
			.slice(1)
			.filter((p) => !p.startsWith('--'))
			.flatMap((p) => leaves(Buffer.from(p.replace(/^[ \t]*\r?\n/, ''), 'latin1')));
	}
	const disposition = parseParams(headers['content-disposition'] || '');
	return [{ headers, type: type.value, params: type.params, disposition, content: decodeBody(body, headers['content-transfer-encoding']) }];
}

/** A message as the test reads it: subject, from, to, the text (and html) body, and attachments by file name. */
function parseMessage(raw) {
	const { headers } = splitHead(raw);
	const parts = leaves(raw);
	const isAttachment = (p) => p.disposition.value === 'attachment' || p.disposition.params.filename || p.params.name;
	const charsetOf = (p) => (/utf-?8/i.test(p.params.charset || 'utf-8') ? 'utf8' : 'latin1');
	const body = (type) => parts.filter((p) => p.type === type && !isAttachment(p)).map((p) => p.content.toString(charsetOf(p)).replace(/\r\n/g, '\n')).join('\n');
	return {
		subject: decodeWords(headers.subject || ''),
		from: decodeWords(headers.from || ''),
		to: decodeWords(headers.to || ''),
		text: body('text/plain'),
		html: body('text/html'),
		attachments: parts.filter(isAttachment).map((p) => ({ fileName: p.disposition.params.filename || p.params.name, contentType: p.type, content: p.content })),
	};
}

module.exports = { startS3, startSmtp, parseMessage, S3_KEY, SMTP_LOGIN };
