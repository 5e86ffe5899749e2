import type { IDataObject } from 'n8n-workflow';

import type { QueryAnswer } from './poller';
import type { Call, Reply, Scope, Transport, UploadBody } from '../transport/transport';
import { reasonFromBody } from '../transport/errors';

export interface Presigned {
	presignedUrl: string;
	filePath: string;
}

export type AssetKind = 'heatmap' | 'preview';

export interface DownloadCap {
	maxBytes: number;
	/** What to do when a file is larger. */
	tooLarge: string;
}

/** Heatmaps and previews are images of the checked image's size; anything far larger is not one. */
export const ASSET_CAP: DownloadCap = {
	maxBytes: 25 * 1024 * 1024,
	tooLarge: 'A heatmap or preview is never this large: the address does not serve one. Fetch it again with Get Result, or contact Undetectable.AI support.',
};

/** What an asset request gave: the file, or (secure URLs only) "not ready yet" / "there is none". */
export type AssetReply =
	| { kind: 'file'; bytes: Buffer; mimeType: string; headers: Record<string, string> }
	| { kind: 'pending'; message: string }
	| { kind: 'none'; message: string };

/**
 * The API's endpoints, in the API's words. Knows the reference's quirks (where the key goes, which calls may be
 * repeated, unknown ids answering `null`), and nothing of n8n parameters.
 */
export class ImageDetectorApi {
	constructor(readonly transport: Transport) {}

	/** GET /get-presigned-url: where to PUT the file, and the path to submit. */
	async presign(fileName: string, scope: Scope = {}): Promise<Presigned> {
		const call: Call = {
			purpose: 'requesting an upload URL',
			method: 'GET',
			path: '/get-presigned-url',
			qs: { file_name: fileName },
			retry: 'safe',
			...scope,
		};
		const reply = await this.transport.send(call);
		const body = reply.body as IDataObject | null;
		if (!body || typeof body.presigned_url !== 'string' || typeof body.file_path !== 'string') {
			throw this.transport.error(call, reply, 'The API answered without an upload URL.');
		}
		return { presignedUrl: body.presigned_url, filePath: body.file_path };
	}

	/** PUT to storage. No key of any kind: storage is not the API host. */
	async upload(presignedUrl: string, body: UploadBody, size: number, contentType: string, scope: Scope = {}): Promise<void> {
		await this.transport.send({
			purpose: 'uploading the file to storage',
			method: 'PUT',
			url: presignedUrl,
			answerer: 'upload',
			body,
			// The length up front: storage needs it, and a streamed body has no length of its own.
			headers: { 'Content-Type': contentType, 'Content-Length': size, 'x-amz-acl': 'private' },
			binary: true,
			retry: 'safe',
			// 30 s, plus a second for every 256 KB: a 10 MB image gets 70 s, a 100 MB ZIP about 7 minutes.
			timeoutMs: 30_000 + Math.ceil(size / 262_144) * 1000,
			...scope,
		});
	}

	/** The URL /detect and /bulk-upload take: `<storage base>/<file_path>`. */
	storageUrl(filePath: string): string {
		return `${this.transport.settings.storageBaseUrl.replace(/\/+$/, '')}/${filePath.replace(/^\/+/, '')}`;
	}

	/**
	 * POST /detect with the document's `id` (the caller's, or one the node made), which makes the call safe to
	 * repeat. An answer that the id exists means, for an id the node made, that this work was submitted already (an
	 * earlier attempt, or another item or run with the same image and options): its document is the one to poll.
	 * An id the user chose may have been in use before: then it is an error.
	 */
	async detect(body: IDataObject & { id: string }, nodeMadeId: boolean, scope: Scope = {}): Promise<string> {
		const call: Call = {
			purpose: 'submitting the image for detection',
			method: 'POST',
			path: '/detect',
			json: body,
			withKey: true,
			retry: 'safe',
			accept: [400, 403],
			...scope,
		};
		const reply = await this.transport.send(call);
		const exists = reply.status === 400 && /already exists/i.test(reasonFromBody(reply.body) ?? '');
		// The node's own ID (random, or derived from the image: then another run or item submitted the same work).
		if (exists && nodeMadeId) return body.id;
		if (exists && reply.attempts > 1) {
			throw this.transport.error(
				call,
				reply,
				`The first attempt may have landed, or the ID was in use before: check it with Get Result and Document ID ${body.id}, or leave the Document ID option empty.`,
			);
		}
		await this.failUnlessOk(call, reply, 1);
		const answered = (reply.body as IDataObject | null)?.id;
		return typeof answered === 'string' ? answered : body.id;
	}

	/**
	 * POST /bulk-upload. It takes no id, so a repeat could bill the ZIP twice: only failures known to come before
	 * the server accepted it are retried.
	 */
	async bulkUpload(body: IDataObject, imageCount: number, scope: Scope = {}): Promise<{ id: string; expectedCount?: number }> {
		const call: Call = {
			purpose: 'submitting the ZIP for bulk detection',
			method: 'POST',
			path: '/bulk-upload',
			json: body,
			withKey: true,
			retry: 'beforeAccepted',
			accept: [403],
			...scope,
		};
		const reply = await this.transport.send(call);
		await this.failUnlessOk(call, reply, imageCount);
		const answer = reply.body as IDataObject | null;
		if (!answer || typeof answer.id !== 'string') throw this.transport.error(call, reply, 'The API answered without a batch ID.');
		return { id: answer.id, expectedCount: typeof answer.expected_count === 'number' ? answer.expected_count : undefined };
	}

	/** POST /query. Takes no key (the reference: the id is the only credential of a result). */
	async query(id: string, scope: Scope = {}): Promise<QueryAnswer> {
		const call: Call = { purpose: 'checking the detection status', method: 'POST', path: '/query', json: { id }, retry: 'safe', ...scope };
		const reply = await this.transport.send(call);
		// JSON null is the API's "no such document"; an answer that is not JSON never reaches here (the transport
		// retries it as unexpected), and one that is JSON but no document is not one either.
		const body = reply.body;
		if (body === null) return null;
		if (typeof body === 'object' && !Array.isArray(body) && typeof (body as IDataObject).status === 'string') return body as IDataObject;
		throw this.transport.error(call, reply, 'The API answered with something that is not a document. Try again later.');
	}


	/** GET /check-user-credits. */
	async credits(scope: Scope = {}): Promise<IDataObject> {
		const reply = await this.transport.send({
			purpose: 'checking the credits',
			method: 'GET',
			path: '/check-user-credits',
			retry: 'safe',
			...scope,
		});
		return (reply.body as IDataObject) ?? {};
	}

	/** A plain GET of a file from any host (storage, an image's website): never with a key, never past `cap`. */
	async download(
		url: string,
		purpose: string,
		cap: DownloadCap,
		scope: Scope = {},
		answerer: 'asset' | 'imageUrl' = 'asset',
		untrusted?: { allowPrivate: boolean },
	): Promise<Reply> {
		return this.transport.send({ purpose, method: 'GET', url, binary: true, cap, answerer, untrusted, retry: 'safe', timeoutMs: 60_000, ...scope });
	}

	/**
	 * Fetches a heatmap or preview. A URL on the configured API host is a secure URL: POST /<kind>/<id> with the
	 * key. Any other URL is direct object storage: a plain GET, with no key.
	 */
	async asset(kind: AssetKind, id: string, url: string, scope: Scope = {}): Promise<AssetReply> {
		const purpose = `downloading the ${kind}`;
		const reply = this.transport.isApiUrl(url)
			? await this.transport.send({
					purpose,
					method: 'POST',
					path: `/${kind}/${encodeURIComponent(id)}`,
					json: {},
					withKey: true,
					binary: true,
					accept: [202],
					retry: 'safe',
					redirectWithoutKey: true,
					cap: ASSET_CAP,
					timeoutMs: 60_000,
					...scope,
				})
			: await this.download(url, purpose, ASSET_CAP, scope);
		if (Buffer.isBuffer(reply.body)) {
			return {
				kind: 'file',
				bytes: reply.body,
				mimeType: (reply.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim(),
				headers: reply.headers,
			};
		}
		const json = (reply.body ?? {}) as IDataObject;
		const message = String(json.message ?? reasonFromBody(json) ?? `No ${kind} is available`);
		if (reply.status === 202) return { kind: 'pending', message };
		return { kind: 'none', message };
	}

	/** Throws the mapped error for a non-2xx answer; "Not enough credits" also says the balance. */
	private async failUnlessOk(call: Call, reply: Reply, needed: number): Promise<void> {
		if (reply.status >= 200 && reply.status < 300) return;
		const reason = reasonFromBody(reply.body) ?? '';
		if (reply.status === 403 && /not enough credits/i.test(reason)) {
			let balance = '';
			try {
				const c = await this.credits({ itemIndex: call.itemIndex, deadline: call.deadline });
				if (typeof c.credits === 'number') balance = `You have ${c.credits} credits; this request needs ${needed}.`;
			} catch {
				// the balance is a courtesy: the error below says what matters
			}
			throw this.transport.error(call, reply, balance || undefined);
		}
		throw this.transport.error(call, reply);
	}
}
