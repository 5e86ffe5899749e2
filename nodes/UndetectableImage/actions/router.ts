import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ImageDetectorApi } from '../api/client';
import { Poller } from '../api/poller';
import { pool } from '../helpers/pool';
import { CREDENTIAL_TYPE, RateGate, Transport } from '../transport/transport';
import { accountOperations } from './account';
import type { Operation, RunContext } from './common';
import { itemError } from './common';
import { imageOperations } from './image';

const operations: Record<string, Record<string, Operation>> = {
	image: imageOperations,
	account: accountOperations,
};

/** Reads and checks the credential once per run. */
async function settingsOf(fn: IExecuteFunctions) {
	const c = await fn.getCredentials(CREDENTIAL_TYPE);
	const apiKey = String(c.apiKey ?? '').trim();
	if (!apiKey) {
		throw new NodeOperationError(fn.getNode(), 'The credential has no API key', {
			description: 'Open the "Undetectable AI Image Detector API" credential and paste the key from the Undetectable.AI developer portal.',
		});
	}
	const url = (name: string, value: unknown) => {
		const v = String(value ?? '').trim().replace(/\/+$/, '');
		try {
			const u = new URL(v);
			if (u.protocol === 'http:' || u.protocol === 'https:') return v;
		} catch {
			// reported below
		}
		throw new NodeOperationError(fn.getNode(), `The credential's ${name} "${v}" is not a valid URL`, {
			description: `Set ${name} in the credential to a full http(s) address, or clear it to use the default.`,
		});
	};
	return {
		apiKey,
		baseUrl: url('API Base URL', c.baseUrl || 'https://ai-image-detect.undetectable.ai'),
		storageBaseUrl: url('Storage Base URL', c.storageBaseUrl || 'https://ai-image-detector-prod.nyc3.digitaloceanspaces.com'),
	};
}

/**
 * Walks the input items once: runs the operation for each (several at a time), keeps output in input order,
 * pairs every output item to its input item, and applies Continue On Fail.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[resource]?.[operationName];
	if (!operation) {
		throw new NodeOperationError(this.getNode(), `The operation "${operationName}" of "${resource}" is not supported`);
	}

	const transport = new Transport(this, await settingsOf(this), new RateGate());
	const api = new ImageDetectorApi(transport);
	const poller = new Poller((id, itemIndex) => api.query(id, itemIndex), this.getExecutionCancelSignal?.());
	const run: RunContext = { fn: this, api, poller };
	const continueOnFail = this.continueOnFail();
	const indexes = items.map((_, i) => i);

	const results = new Map<number, INodeExecutionData[] | Error>();
	if (operation.takesAllItems?.(run) && operation.executeAll) {
		for (const [i, r] of await operation.executeAll(run, indexes)) results.set(i, r);
	} else {
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const concurrency = Math.max(1, Math.min(20, Number(options.concurrency ?? 5) || 5));
		let stopped = false;
		await pool(
			indexes,
			concurrency,
			async (i) => {
				try {
					results.set(i, await operation.execute(run, i));
				} catch (error) {
					results.set(i, itemError(this, error, i));
					// Without Continue On Fail the run stops: start no new item, let running ones finish.
					if (!continueOnFail) stopped = true;
				}
			},
			() => !stopped,
		);
	}

	const output: INodeExecutionData[] = [];
	for (const i of indexes) {
		const r = results.get(i);
		if (r instanceof Error) {
			if (!continueOnFail) throw r;
			output.push({ json: errorJson(r), pairedItem: { item: i } });
		} else if (r) {
			for (const item of r) output.push({ ...item, pairedItem: item.pairedItem ?? { item: i } });
		}
	}
	return [output];
}

/** What a Continue On Fail item says: the message, the fix, and the document id when there is one. */
function errorJson(error: Error): IDataObject {
	const e = error as Error & { description?: string; httpCode?: string; context?: IDataObject };
	const json: IDataObject = { error: e.message };
	if (e.description) json.description = e.description;
	if (e.httpCode) json.httpCode = e.httpCode;
	if (e.context?.documentId) json.id = e.context.documentId;
	return json;
}
