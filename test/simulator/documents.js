'use strict';
// The documents the simulator knows, and their state machine.
//
// A document's state is derived from the clock, not advanced by a timer: a detection submitted at t0 is
//   pending    until t0 + timing.startMs,
//   analyzing  until t0 + timing.resultMs (the score is known from then: status done),
// its heatmap is ready at done + timing.heatmapMs and its analysis at done + timing.analysisMs.
// In a bulk request image n (0-based) finishes timing.perImageMs after image n-1.
// Results are deterministic: the score comes from the image's bytes (see scoreFor).
const crypto = require('crypto');

/** The score (0–100, two decimals) the simulator gives these bytes. Tests use it to know the answer. */
function scoreFor(bytes) {
	const h = crypto.createHash('sha256').update(bytes).digest();
	return Math.round((h.readUInt32BE(0) / 0xffffffff) * 10000) / 100;
}

function verdictFor(score) {
	if (score >= 50) return 'AI Generated';
	if (score >= 40) return 'Digitally Edited';
	return 'Real';
}

// Markers a test can put in an image's bytes to steer what happens to it.
const MARK_FAIL = 'SIM:FAIL'; // processing fails: status failed
const MARK_NO_HEATMAP = 'SIM:NOHEATMAP'; // heatmap_status failed
const MARK_HEATMAP_LOST = 'SIM:HEATMAPLOST'; // heatmap_url set but the stored file is gone (POST /heatmap -> 500)

class Documents {
	constructor(timing) {
		this.timing = timing;
		this.byId = new Map();
	}

	has(id) {
		return this.byId.has(id);
	}

	get(id) {
		return this.byId.get(id);
	}

	addSingle({ id, ownerKey, fileName, bytes, options, now }) {
		const text = bytes.toString('latin1');
		const doc = {
			id,
			kind: 'single',
			ownerKey,
			fileName,
			createdAt: now,
			options,
			score: scoreFor(bytes),
			fail: text.includes(MARK_FAIL) ? 'Image processing failed: the file could not be decoded' : null,
			heatmapFails: text.includes(MARK_NO_HEATMAP),
			heatmapLost: text.includes(MARK_HEATMAP_LOST),
			finishOffset: 0,
		};
		this.byId.set(id, doc);
		return doc;
	}

	addBulk({ id, ownerKey, images, skipped, options, now }) {
		const children = images.map((img, n) =>
			this.addSingle({ id: crypto.randomUUID(), ownerKey, fileName: img.name, bytes: img.data, options, now }),
		);
		children.forEach((c, n) => {
			c.finishOffset = n * this.timing.perImageMs;
			c.parent = id;
		});
		const doc = { id, kind: 'bulk', ownerKey, createdAt: now, options, children, skipped };
		this.byId.set(id, doc);
		return doc;
	}

	/** When the score of a single document becomes visible (ms since epoch). */
	doneAt(doc) {
		return doc.createdAt + this.timing.resultMs + doc.finishOffset;
	}

	status(doc, now) {
		if (doc.kind === 'bulk') {
			const states = doc.children.map((c) => this.status(c, now));
			if (states.every((s) => s === 'done' || s === 'failed')) return 'done';
			return now - doc.createdAt < this.timing.startMs ? 'pending' : 'analyzing';
		}
		const t = now - doc.createdAt;
		if (t < this.timing.startMs) return 'pending';
		if (now < this.doneAt(doc)) return doc.parent ? 'pending' : 'analyzing';
		return doc.fail ? 'failed' : 'done';
	}

	heatmapStatus(doc, now) {
		if (this.status(doc, now) !== 'done') return 'pending';
		if (doc.heatmapFails) return 'failed';
		return now >= this.doneAt(doc) + this.timing.heatmapMs ? 'ready' : 'pending';
	}

	/** null when analysis was not asked for. */
	analysisStatus(doc, now) {
		if (doc.options.generate_analysis_details === false) return null;
		if (this.status(doc, now) !== 'done') return 'pending';
		const since = now - this.doneAt(doc);
		if (since >= this.timing.analysisMs) return 'ready';
		return since >= this.timing.analysisMs / 2 ? 'analyzing' : 'pending';
	}
}

function analysisFor(doc) {
	const ai = doc.score >= 50;
	return {
		imageTags: ['person', 'portrait', 'outdoor'],
		agreement: ai ? 'strong' : 'moderate',
		confidence: Math.round(doc.score),
		keyIndicators: ai ? ['Unnaturally smooth skin texture'] : ['Natural sensor noise'],
		detailedReasoning: ai
			? 'The image shows signs of AI generation.'
			: 'The image is consistent with a real photograph.',
		visualPatterns: ai ? ['Uniform noise pattern typical of diffusion models'] : [],
		recommendations: ['Cross-reference with original source if available'],
	};
}

module.exports = { Documents, scoreFor, verdictFor, analysisFor, MARK_FAIL, MARK_NO_HEATMAP, MARK_HEATMAP_LOST };
