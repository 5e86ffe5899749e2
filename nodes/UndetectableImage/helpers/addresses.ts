// Whether an address is on the public internet, judged from the URL alone. Used where the address comes from an
// AI model (tool mode): a model reads strangers' text and can be steered into asking n8n to fetch an internal page
// (a cloud metadata service, n8n itself, a database's web port) from n8n's own network position.
// Host names are not resolved here (a community node may not use `dns`): a public name that points to a private
// address is caught by n8n's own SSRF protection where the n8n version has it, since every request goes through
// n8n's HTTP helper.

/** IPv4 ranges that are not the public internet (RFC 6890 and friends), as [first octets, prefix length, name]. */
const IPV4_RANGES: Array<[number[], number, string]> = [
	[[0], 8, 'this network'],
	[[10], 8, 'private'],
	[[100, 64], 10, 'shared (carrier-grade NAT)'],
	[[127], 8, 'loopback'],
	[[169, 254], 16, 'link-local'],
	[[172, 16], 12, 'private'],
	[[192, 0, 0], 24, 'IETF protocol assignments'],
	[[192, 0, 2], 24, 'documentation'],
	[[192, 88, 99], 24, 'relay'],
	[[192, 168], 16, 'private'],
	[[198, 18], 15, 'benchmarking'],
	[[198, 51, 100], 24, 'documentation'],
	[[203, 0, 113], 24, 'documentation'],
	[[224], 4, 'multicast'],
	[[240], 4, 'reserved'],
];

/** Names that only mean something on a local network. */
const LOCAL_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'intranet', 'lan', 'home', 'corp', 'home.arpa', 'private'];

function ipv4Reason(octets: number[]): string | undefined {
	const value = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
	for (const [first, bits, name] of IPV4_RANGES) {
		const base = ((first[0] << 24) | ((first[1] ?? 0) << 16) | ((first[2] ?? 0) << 8)) >>> 0;
		const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
		if ((value & mask) >>> 0 === (base & mask) >>> 0) return name;
	}
	return undefined;
}

function parseIpv4(host: string): number[] | undefined {
	const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (!m) return undefined;
	const octets = m.slice(1).map(Number);
	return octets.every((o) => o <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (as the URL parser writes it, compressed, maybe with IPv4 at its end). */
function parseIpv6(host: string): number[] | undefined {
	let text = host.toLowerCase();
	const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
	if (v4) {
		const o = parseIpv4(v4[1]);
		if (!o) return undefined;
		text = `${text.slice(0, -v4[1].length)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
	}
	const [head, tail, extra] = text.split('::');
	if (extra !== undefined) return undefined;
	const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
	const a = part(head);
	const b = part(tail);
	const groups = tail === undefined ? a : [...a, ...Array(8 - a.length - b.length).fill(0), ...b];
	return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function ipv6Reason(g: number[]): string | undefined {
	const zeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
	if (zeroUntil(8)) return 'unspecified';
	if (zeroUntil(7) && g[7] === 1) return 'loopback';
	// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judged as that IPv4.
	const embedded = [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255];
	// IPv4-translated (::ffff:0:a.b.c.d) too.
	const translated = zeroUntil(4) && g[4] === 0xffff && g[5] === 0;
	if ((zeroUntil(5) && (g[5] === 0xffff || g[5] === 0)) || translated || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))) {
		return ipv4Reason(embedded) ?? undefined;
	}
	// 6to4 (2002:AABB:CCDD::/48) carries an IPv4 address in its second and third groups.
	if (g[0] === 0x2002) {
		const inner = ipv4Reason([g[1] >> 8, g[1] & 255, g[2] >> 8, g[2] & 255]);
		if (inner) return `6to4 ${inner}`;
	}
	if ((g[0] & 0xfe00) === 0xfc00) return 'private (unique local)';
	if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
	if ((g[0] & 0xffc0) === 0xfec0) return 'site-local';
	if ((g[0] & 0xff00) === 0xff00) return 'multicast';
	if (g[0] === 0x2001 && g[1] === 0x0db8) return 'documentation';
	if (g[0] === 0x0100 && zeroUntil(4)) return 'discard';
	return undefined;
}

/**
 * Why a URL's host is not a public internet address (loopback, private, link-local, a local-only name, ...), or
 * undefined when it looks public. The URL parser has already turned every spelling of an IPv4 address
 * (2130706433, 0x7f.1, 127.1) into dotted form.
 */
export function nonPublicReason(url: URL): string | undefined {
	const host = url.hostname.toLowerCase().replace(/\.$/, '');
	if (host.startsWith('[')) {
		const groups = parseIpv6(host.slice(1, -1).split('%')[0]);
		if (!groups) return 'an IPv6 address the node cannot read';
		const why = ipv6Reason(groups);
		return why ? `a ${why} address` : undefined;
	}
	const octets = parseIpv4(host);
	if (octets) {
		const why = ipv4Reason(octets);
		return why ? `a ${why} address` : undefined;
	}
	if (!host.includes('.')) return 'a name without a domain, which only n8n\'s own network can resolve';
	const local = LOCAL_SUFFIXES.find((suffix) => host === suffix || host.endsWith(`.${suffix}`));
	return local ? `a local network name (".${local}")` : undefined;
}
