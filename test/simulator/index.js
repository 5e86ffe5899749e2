'use strict';
// The Undetectable.AI Image Detector API simulator: the API and its object storage, each a real HTTP server on
// loopback, following ../../../shared/image-detector-api.txt. One handler per endpoint, below, in the
// reference's order. It records every request it receives (`requests`), so tests can assert what reached where.
const http = require('http');
const crypto = require('crypto');
const { CONTENT_TYPES, MIN_IMAGE, MAX_IMAGE, MAX_ZIP, MAX_BULK_IMAGES, extOf, sniff, kindMatchesExt } = require('./formats');
const { Documents, verdictFor, analysisFor } = require('./documents');
const { Faults } = require('./faults');
const { readZip } = require('./zip-reader');
const { heatmapPng, previewPng } = require('./png');

const DEFAULT_KEY = 'sim-key-3f9a1c7e2b';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODELS = ['generic', 'sheerid'];

const detail = (status, message) => ({ status, json: { detail: message } });

class Simulator {
	/**
	 * @param {object} [opts]
	 * @param {object} [opts.timing] ms: startMs, resultMs, heatmapMs, analysisMs, perImageMs
	 * @param {Record<string, number>} [opts.keys] API key -> credits
	 * @param {string[]} [opts.instances] dedicated instance ids accepted in `model` as `<instance>/<model>`
	 * @param {boolean} [opts.secureUrls] heatmap/preview URLs on the API host (POST with key) instead of storage
	 * @param {number} [opts.latencyMs] added to every API answer
	 * @param {boolean} [opts.externalCredits] answer /check-user-credits with `credits` only
	 */
	constructor(opts = {}) {
		this.timing = { startMs: 20, resultMs: 60, heatmapMs: 60, analysisMs: 80, perImageMs: 5, ...opts.timing };
		this.accounts = new Map(
			Object.entries(opts.keys ?? { [DEFAULT_KEY]: 1000 }).map(([k, credits]) => [k, { credits, used: 0 }]),
		);
		this.instances = opts.instances ?? ['acme-instance'];
		this.secureUrls = !!opts.secureUrls;
		this.latencyMs = opts.latencyMs ?? 0;
		this.externalCredits = !!opts.externalCredits;
		this.docs = new Documents(this.timing);
		this.faults = new Faults();
		this.requests = [];
		this.objects = new Map(); // storage key -> { bytes, contentType }
		this.presigned = new Map(); // storage key -> { signature, expiresAt }
		this.public = new Map(); // path -> { bytes, contentType }: files on "some other website"
		this.submissions = []; // every accepted /detect and /bulk-upload: { endpoint, id, url }
		this.queryTimes = new Map(); // document id -> times (ms) /query answered for it
	}

	async start({ apiPort = 0, storagePort = 0 } = {}) {
		this.api = await listen((req, res) => this.handle('api', req, res), apiPort);
		this.storage = await listen((req, res) => this.handle('storage', req, res), storagePort);
		this.apiUrl = `http://127.0.0.1:${this.api.address().port}`;
		this.storageUrl = `http://127.0.0.1:${this.storage.address().port}`;
		return this;
	}

	async close() {
		for (const server of [this.api, this.storage]) {
			server.closeAllConnections();
			await new Promise((r) => server.close(r));
		}
	}

	credits(key = DEFAULT_KEY) {
		return this.accounts.get(key).credits;
	}

	/** Puts a file on the storage server's public area (stands for any website an image URL points to). */
	publish(name, bytes, contentType) {
		this.public.set(`/public/${name}`, { bytes, contentType });
		return `${this.storageUrl}/public/${name}`;
	}

	requestsTo(server, pathPrefix = '') {
		return this.requests.filter((r) => r.server === server && r.path.startsWith(pathPrefix));
	}

	// ---- plumbing -------------------------------------------------------------------------------------------

	async handle(server, req, res) {
		const chunks = [];
		for await (const c of req) chunks.push(c);
		const body = Buffer.concat(chunks);
		const url = new URL(req.url, 'http://x');
		const record = {
			server,
			method: req.method,
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			headers: { ...req.headers },
			body: body.length <= 64 * 1024 ? body.toString('utf8') : `<${body.length} bytes>`,
			bodyBytes: body.length,
			at: Date.now(),
			status: null,
		};
		this.requests.push(record);

		const fault = this.faults.pick(server, req.method, url.pathname);
		if (fault?.drop === 'before') return req.socket.destroy();
		if (fault?.location) {
			record.status = fault.status;
			res.writeHead(fault.status, { location: fault.location, 'content-length': 0 });
			return res.end();
		}
		if (fault?.trickle) {
			record.status = 200;
			const { everyMs, bytes = 1e6, contentType = 'application/json' } = fault.trickle;
			res.writeHead(200, { 'content-type': contentType });
			let sent = 0;
			const timer = setInterval(() => {
				if (res.destroyed || sent >= bytes) return clearInterval(timer), res.destroyed || res.end();
				res.write(' ');
				sent++;
			}, everyMs);
			res.on('close', () => clearInterval(timer));
			return;
		}
		if (fault?.stream) {
			record.status = 200;
			return this.streamBytes(res, fault.stream, record);
		}
		if (fault?.raw !== undefined) {
			record.status = fault.status;
			res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'text/html' });
			return res.end(fault.raw);
		}
		if (fault?.status) {
			record.status = fault.status;
			const headers = { 'content-type': 'application/json' };
			if (fault.status === 429 && fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
			res.writeHead(fault.status, headers);
			const json = fault.json ?? { detail: fault.status === 429 ? 'Too Many Requests' : 'Internal Server Error' };
			return res.end(JSON.stringify(json));
		}
		const delay = (fault?.delayMs ?? 0) + (server === 'api' ? this.latencyMs : 0);
		// A late answer: it waits no longer than the client does, and never holds the test process open.
		if (delay) {
			await new Promise((resolve) => {
				const timer = setTimeout(resolve, delay);
				timer.unref();
				req.socket.once('close', () => (clearTimeout(timer), resolve()));
			});
		}

		let out;
		try {
			out = server === 'api' ? this.routeApi(req.method, url, req.headers, body) : this.routeStorage(req.method, url, req.headers, body);
		} catch (e) {
			out = detail(500, `Simulator error: ${e.message}`);
		}
		if (fault?.drop === 'after') return req.socket.destroy();
		record.status = out.status;
		if (out.bytes) {
			res.writeHead(out.status, { 'content-type': out.contentType, 'content-length': out.bytes.length, ...out.headers });
			return res.end(out.bytes);
		}
		if (out.xml) {
			res.writeHead(out.status, { 'content-type': 'application/xml' });
			return res.end(out.xml);
		}
		res.writeHead(out.status, { 'content-type': 'application/json' });
		res.end(out.json === undefined ? '' : JSON.stringify(out.json));
	}

	/** Writes `bytes` bytes of a JPEG-looking body as fast as the client takes them; stops when it goes away. */
	streamBytes(res, { bytes, declare }, record) {
		res.writeHead(200, { 'content-type': 'image/jpeg', ...(declare ? { 'content-length': bytes } : {}) });
		const chunk = Buffer.alloc(64 * 1024, 0x41);
		chunk[0] = 0xff;
		chunk[1] = 0xd8;
		chunk[2] = 0xff;
		record.streamed = 0;
		const pump = () => {
			while (record.streamed < bytes && !res.destroyed) {
				const piece = chunk.subarray(0, Math.min(chunk.length, bytes - record.streamed));
				record.streamed += piece.length;
				if (!res.write(piece)) return res.once('drain', pump);
			}
			if (!res.destroyed) res.end();
		};
		res.on('close', () => undefined);
		pump();
	}

	routeApi(method, url, headers, body) {
		const p = url.pathname;
		const routes = [
			['GET', /^\/health$/, () => ({ status: 200, json: { status: 'healthy' } })],
			['GET', /^\/get-presigned-url$/, () => this.presign(url, headers)],
			['POST', /^\/detect$/, (b) => this.detect(b)],
			['POST', /^\/bulk-upload$/, (b) => this.bulkUpload(b)],
			['POST', /^\/query$/, (b) => this.query(b)],
			['POST', /^\/heatmap\/([^/]+)$/, (b, m) => this.secureHeatmap(b, m[1])],
			['POST', /^\/preview\/([^/]+)$/, (b, m) => this.securePreview(b, m[1])],
			['GET', /^\/check-user-credits$/, () => this.checkCredits(headers)],
		];
		const matching = routes.filter(([, re]) => re.test(p));
		if (!matching.length) return detail(404, 'Not Found');
		const route = matching.find(([m]) => m === method);
		if (!route) return detail(405, 'Method Not Allowed');
		const accept = headers.accept;
		if (accept && !/json|\*\/\*|image/.test(accept)) return detail(406, 'Not Acceptable');
		let json = null;
		if (method === 'POST') {
			try {
				json = JSON.parse(body.toString('utf8') || 'null');
			} catch {
				return { status: 422, json: { detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' }] } };
			}
			if (json === null || typeof json !== 'object' || Array.isArray(json)) {
				return { status: 422, json: { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary' }] } };
			}
		}
		return route[2](json, p.match(route[1]));
	}

	/** The account for a key, or an error answer. */
	account(key) {
		const acc = typeof key === 'string' ? this.accounts.get(key) : undefined;
		return acc ? { acc } : { error: detail(403, 'User verification failed') };
	}

	missing(body, fields) {
		const absent = fields.filter((f) => body[f] === undefined);
		if (!absent.length) return null;
		return {
			status: 422,
			json: { detail: absent.map((f) => ({ type: 'missing', loc: ['body', f], msg: 'Field required' })) },
		};
	}

	// ---- 1. GET /get-presigned-url ---------------------------------------------------------------------------

	presign(url, headers) {
		const { error } = this.account(headers.apikey);
		if (error) return error;
		const fileName = url.searchParams.get('file_name');
		if (!fileName) {
			return { status: 422, json: { detail: [{ type: 'missing', loc: ['query', 'file_name'], msg: 'Field required' }] } };
		}
		const expiration = Number(url.searchParams.get('expiration') ?? 3600);
		// The server normalises the name: spaces and unsafe characters are adjusted.
		const safe = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
		const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
		const key = `uploads/${crypto.randomUUID()}_${stamp}_${safe}`;
		const signature = crypto.randomBytes(16).toString('hex');
		this.presigned.set(key, { signature, expiresAt: Date.now() + expiration * 1000 });
		return {
			status: 200,
			json: {
				status: 'success',
				presigned_url: `${this.storageUrl}/${key}?X-Amz-Expires=${expiration}&X-Amz-Signature=${signature}`,
				file_path: key,
				document_id: crypto.randomUUID(),
			},
		};
	}

	// ---- 2. PUT to storage, and the storage's public objects ---------------------------------------------------

	routeStorage(method, url, headers, body) {
		const key = decodeURIComponent(url.pathname.slice(1));
		if (method === 'PUT') {
			const grant = this.presigned.get(key);
			if (!grant || grant.signature !== url.searchParams.get('X-Amz-Signature') || Date.now() > grant.expiresAt) {
				return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.');
			}
			const ext = extOf(key);
			if (headers['content-type'] !== CONTENT_TYPES[ext] || headers['x-amz-acl'] !== 'private') {
				// Content-Type and x-amz-acl are signed headers: a different value breaks the signature.
				return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.');
			}
			this.objects.set(key, { bytes: body, contentType: headers['content-type'] });
			return { status: 200, json: undefined };
		}
		if (method === 'GET') {
			const pub = this.public.get(url.pathname);
			if (pub) return { status: 200, bytes: pub.bytes, contentType: pub.contentType };
			const m = /^(heatmaps|previews)\/([^/.]+)\.png$/.exec(key);
			const doc = m && this.docs.get(m[2]);
			if (doc && m[1] === 'heatmaps' && this.docs.heatmapStatus(doc, Date.now()) === 'ready' && !doc.heatmapLost) {
				return { status: 200, bytes: heatmapPng(doc.score, doc.options.generate_heatmap_overlayed !== false), contentType: 'image/png' };
			}
			if (doc && m[1] === 'previews' && this.previewReady(doc)) {
				return { status: 200, bytes: previewPng(doc.score), contentType: 'image/png' };
			}
			const obj = this.objects.get(key);
			if (obj) return { status: 200, bytes: obj.bytes, contentType: obj.contentType };
		}
		return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
	}

	/** The stored upload a /detect or /bulk-upload url points to, or an error answer. */
	uploaded(url) {
		if (typeof url !== 'string' || !url.trim()) return { error: detail(400, 'Input URL cannot be empty') };
		const prefix = `${this.storageUrl}/`;
		const obj = url.startsWith(prefix) ? this.objects.get(decodeURIComponent(url.slice(prefix.length))) : undefined;
		if (!obj) return { error: detail(500, 'File metadata could not be fetched') };
		return { obj, name: url.slice(url.lastIndexOf('/') + 1) };
	}

	checkModel(model) {
		if (model === undefined || MODELS.includes(model)) return null;
		const m = /^([^/]+)\/([^/]+)$/.exec(String(model));
		if (m && MODELS.includes(m[2])) return this.instances.includes(m[1]) ? null : detail(400, `Invalid instance_id: ${m[1]}`);
		return detail(400, `Invalid model: ${model}`);
	}

	// ---- 3. POST /detect -------------------------------------------------------------------------------------

	detect(body) {
		const missing = this.missing(body, ['key']);
		if (missing) return missing;
		const { acc, error } = this.account(body.key);
		if (error) return error;
		for (const flag of ['generate_preview', 'generate_analysis_details', 'generate_heatmap_overlayed']) {
			if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
				return { status: 422, json: { detail: [{ type: 'bool_parsing', loc: ['body', flag], msg: 'Input should be a valid boolean', input: body[flag] }] } };
			}
		}
		if (body.id !== undefined && !UUID_RE.test(String(body.id))) {
			return { status: 422, json: { detail: [{ type: 'uuid_parsing', loc: ['body', 'id'], msg: 'Input should be a valid UUID', input: body.id }] } };
		}
		if (body.id !== undefined && this.docs.has(body.id)) return detail(400, `Document with id ${body.id} already exists`);
		const badModel = this.checkModel(body.model);
		if (badModel) return badModel;
		if (body.document_type === 'URL' && !body.email) return detail(400, 'Input email is empty');
		const up = this.uploaded(body.url);
		if (up.error) return up.error;
		const ext = extOf(up.name);
		if (!CONTENT_TYPES[ext] || ext === 'zip') return detail(400, 'Unsupported image type');
		if (up.obj.bytes.length < MIN_IMAGE) return detail(400, 'File size is too small');
		if (up.obj.bytes.length > MAX_IMAGE) return detail(400, 'File size exceeds limit of 10MB');
		if (!kindMatchesExt(sniff(up.obj.bytes), ext)) return detail(400, 'Invalid file type');
		if (acc.credits < 1) return detail(403, 'Not enough credits');
		acc.credits -= 1;
		acc.used += 1;
		const id = body.id ?? crypto.randomUUID();
		const options = { generate_preview: true, generate_analysis_details: true, ...pickOptions(body) };
		this.docs.addSingle({ id, ownerKey: body.key, fileName: up.name, bytes: up.obj.bytes, options, now: Date.now() });
		this.submissions.push({ endpoint: 'detect', id, url: body.url });
		return { status: 200, json: { id, status: 'pending' } };
	}

	// ---- Bulk: POST /bulk-upload -----------------------------------------------------------------------------

	bulkUpload(body) {
		const missing = this.missing(body, ['key']);
		if (missing) return missing;
		const { acc, error } = this.account(body.key);
		if (error) return error;
		if (typeof body.url === 'string' && body.url && extOf(body.url) !== 'zip') return detail(400, 'URL must point to a ZIP file');
		const badModel = this.checkModel(body.model);
		if (badModel) return badModel;
		const up = this.uploaded(body.url);
		if (up.error) return up.error;
		if (up.obj.bytes.length > MAX_ZIP) return detail(400, 'ZIP file too large');
		let entries;
		try {
			entries = readZip(up.obj.bytes);
		} catch {
			return detail(400, 'Invalid ZIP file');
		}
		const images = [];
		const skipped = [];
		const skip = (name, reason) => skipped.push({ name, reason });
		for (const e of entries) {
			if (e.directory) continue;
			const base = e.name.slice(e.name.lastIndexOf('/') + 1);
			const ext = extOf(base);
			if (e.name.split('/').includes('..') || e.name.startsWith('/')) skip(e.name, 'Invalid path');
			else if (e.name.split('/').some((part) => part.startsWith('.') && part !== '.')) skip(e.name, 'Hidden files are not supported');
			else if (ext === 'pdf') skip(e.name, 'PDF not supported in bulk');
			else if (!CONTENT_TYPES[ext] || ext === 'zip') skip(e.name, 'Unsupported image type');
			else if (e.data.length < MIN_IMAGE) skip(e.name, 'File size is too small');
			else if (e.data.length > MAX_IMAGE) skip(e.name, 'File size exceeds limit of 10MB');
			else images.push({ name: base, data: e.data });
		}
		if (images.length > MAX_BULK_IMAGES) return detail(400, 'Too many files');
		if (!images.length) return detail(400, 'No valid images found in ZIP');
		if (acc.credits < images.length) return detail(403, 'Not enough credits');
		// Billing: only images that are analyzed are charged.
		acc.credits -= images.length;
		acc.used += images.length;
		const id = crypto.randomUUID();
		const options = { generate_preview: false, generate_analysis_details: false, ...pickOptions(body) };
		this.docs.addBulk({
			id,
			ownerKey: body.key,
			images,
			skipped: skipped.map((s) => ({
				id: crypto.randomUUID(),
				status: 'failed',
				result: null,
				filename: s.name,
				result_details: { is_valid: false, error_message: s.reason },
			})),
			options,
			now: Date.now(),
		});
		this.submissions.push({ endpoint: 'bulk-upload', id, url: body.url });
		return { status: 200, json: { id, status: 'pending', expected_count: images.length } };
	}

	// ---- POST /query -----------------------------------------------------------------------------------------

	query(body) {
		const missing = this.missing(body, ['id']);
		if (missing) return missing;
		const doc = this.docs.get(String(body.id));
		// Unknown ids: HTTP 200 with a null body, as the real service does.
		if (!doc) return { status: 200, json: null };
		const now = Date.now();
		const times = this.queryTimes.get(doc.id) ?? [];
		times.push(now);
		this.queryTimes.set(doc.id, times);
		if (doc.kind === 'bulk') {
			return {
				status: 200,
				json: {
					id: doc.id,
					status: this.docs.status(doc, now),
					results: doc.children.map((c) => ({ ...this.singleView(c, now), filename: c.fileName })),
					skipped: doc.skipped,
				},
			};
		}
		return { status: 200, json: this.singleView(doc, now) };
	}

	singleView(doc, now) {
		const status = this.docs.status(doc, now);
		const view = { id: doc.id, status, result: null, result_details: null, preview_url: null };
		if (status === 'failed') {
			view.result_details = { is_valid: false, error_message: doc.fail };
			return view;
		}
		if (status !== 'done') return view;
		const verdict = verdictFor(doc.score);
		const heatmapStatus = this.docs.heatmapStatus(doc, now);
		const analysisStatus = this.docs.analysisStatus(doc, now);
		view.result = doc.score;
		view.result_details = {
			is_valid: true,
			detection_step: 3,
			final_result: verdict,
			metadata: ['No Information Detected for Real/AI', 'Could not find anything from ExifTool and Pillow metadata'],
			metadata_basic_source: 'null',
			ocr: ['OCR did not detect AI', 0.0],
			ml_model: [verdict, doc.score],
			confidence: doc.score,
			heatmap_status: heatmapStatus,
			heatmap_url: heatmapStatus === 'ready' ? this.assetUrl('heatmap', doc.id) : null,
		};
		if (analysisStatus !== null) {
			view.result_details.analysis_results_status = analysisStatus;
			view.result_details.analysis_results = analysisStatus === 'ready' ? analysisFor(doc) : null;
		}
		if (this.previewReady(doc)) view.preview_url = this.assetUrl('preview', doc.id);
		return view;
	}

	previewReady(doc) {
		return doc.options.generate_preview === true && this.docs.status(doc, Date.now()) === 'done';
	}

	assetUrl(kind, id) {
		return this.secureUrls ? `${this.apiUrl}/${kind}/${id}` : `${this.storageUrl}/${kind}s/${id}.png`;
	}

	// ---- Secure assets: POST /heatmap/{id}, POST /preview/{id} ------------------------------------------------

	/** The document a secure asset request is for, or an error answer (404, 403). */
	ownedDoc(body, id) {
		const { error } = this.account(body.key);
		if (error) return { error };
		const doc = this.docs.get(id);
		if (!doc || doc.kind !== 'single') return { error: detail(404, 'Document not found') };
		if (doc.ownerKey !== body.key) return { error: detail(403, 'Access denied') };
		return { doc };
	}

	secureHeatmap(body, id) {
		const { doc, error } = this.ownedDoc(body, id);
		if (error) return error;
		const hs = this.docs.heatmapStatus(doc, Date.now());
		if (hs === 'pending') {
			return { status: 202, json: { heatmap_status: 'pending', message: 'Heatmap is still being generated. Try again shortly.' } };
		}
		if (hs !== 'ready') return { status: 200, json: { heatmap_status: hs, message: 'No heatmap is available for this document.' } };
		if (doc.heatmapLost) return detail(500, 'Heatmap file could not be downloaded from storage');
		return {
			status: 200,
			bytes: heatmapPng(doc.score, doc.options.generate_heatmap_overlayed !== false),
			contentType: 'image/png',
			headers: { 'x-heatmap-status': 'ready' },
		};
	}

	securePreview(body, id) {
		const { doc, error } = this.ownedDoc(body, id);
		if (error) return error;
		if (!this.previewReady(doc)) return detail(404, 'No preview was generated for this document');
		return { status: 200, bytes: previewPng(doc.score), contentType: 'image/png' };
	}

	// ---- GET /check-user-credits -----------------------------------------------------------------------------

	checkCredits(headers) {
		const { acc, error } = this.account(headers.apikey);
		if (error) return error;
		if (this.externalCredits) return { status: 200, json: { credits: acc.credits } };
		const boost = Math.min(acc.credits, 100);
		return { status: 200, json: { baseCredits: acc.credits - boost, boostCredits: boost, credits: acc.credits } };
	}
}

function pickOptions(body) {
	const out = {};
	for (const k of ['generate_preview', 'generate_analysis_details', 'generate_heatmap_overlayed', 'model', 'document_type', 'email', 'user_agent']) {
		if (body[k] !== undefined) out[k] = body[k];
	}
	return out;
}

function s3Error(status, code, message) {
	return { status, xml: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` };
}

function listen(handler, port) {
	const server = http.createServer((req, res) => {
		handler(req, res).catch(() => req.socket.destroy());
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve(server));
	});
}

async function startSimulator(opts) {
	return new Simulator(opts).start();
}

module.exports = { Simulator, startSimulator, DEFAULT_KEY };
