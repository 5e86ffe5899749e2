'use strict';
// Fault injection: scripted faults for the next matching requests, and random faults at given rates
// (seeded, so a run is repeatable).
//
// A fault is one of:
//   { status: 429, retryAfter: 1 }   answer 429 (Retry-After in seconds, omitted when undefined)
//   { status: 500|502|503|504 }      answer that status with a JSON detail
//   { status: 202, json: {...} }     answer any status with this JSON body (a race the reference describes, say)
//   { drop: 'before' }               close the connection before the request is handled
//   { drop: 'after' }                handle the request (state changes!), then close without answering
//   { delayMs: 5000 }                answer late (for request timeouts)
//   { status: 302, location: url }   redirect (301, 302, 303, 307, 308) to `url`, relative or absolute
//   { status: 200, raw: text, contentType }   answer any status with this body as it is (an HTML page from a proxy)
//   { trickle: { everyMs, bytes, contentType } }   answer 200, then one byte every `everyMs` (a server that never
//                                    goes quiet long enough for an idle timeout)
//   { stream: { bytes, declare } }   answer 200 with `bytes` bytes, written as the client reads them (declared in
//                                    Content-Length when `declare`); how many left is kept in `streamed`

function mulberry32(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

class Faults {
	constructor() {
		this.reset();
	}

	reset() {
		this.scripted = []; // [{ server, method, path (RegExp|string), fault }]
		this.random = null;
	}

	/** The next request to `server` ('api'|'storage') matching method and path gets `fault`, once. */
	once(server, method, path, fault) {
		this.scripted.push({ server, method, path, fault });
	}

	/** Random faults on every request of `servers`: { rate429, rate5xx, rateDrop, retryAfter, seed, servers }. */
	setRandom(opts) {
		this.random = { rate429: 0, rate5xx: 0, rateDrop: 0, servers: ['api', 'storage'], ...opts, rng: mulberry32(opts.seed ?? 1) };
	}

	/** The fault for this request, if any. */
	pick(server, method, path) {
		const i = this.scripted.findIndex(
			(s) =>
				s.server === server &&
				(s.method === '*' || s.method === method) &&
				(s.path instanceof RegExp ? s.path.test(path) : s.path === path),
		);
		if (i >= 0) return this.scripted.splice(i, 1)[0].fault;
		const r = this.random;
		if (!r || !r.servers.includes(server)) return null;
		const x = r.rng();
		if (x < r.rate429) return { status: 429, retryAfter: r.retryAfter };
		if (x < r.rate429 + r.rate5xx) return { status: [500, 502, 503][Math.floor(r.rng() * 3)] };
		if (x < r.rate429 + r.rate5xx + r.rateDrop) return { drop: r.rng() < 0.5 ? 'before' : 'after' };
		return null;
	}
}

module.exports = { Faults };
