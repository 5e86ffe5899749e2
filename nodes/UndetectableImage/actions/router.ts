import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ImageDetectorApi } from '../api/client';
import { Poller } from '../api/poller';
import { pool } from '../helpers/pool';
import { itemError, redactJson } from '../transport/errors';
import { RateGate, readCredential, Transport } from '../transport/transport';
import { accountOperations } from './account';
import { imageOperations } from './image';
import type { Operation, OperationContext, Plan, WorkUnit } from './operation';

const operations: Record<string, Record<string, Operation>> = {
	image: imageOperations,
	account: accountOperations,
};

/** Every input item is its own unit, when the operation has no plan step. */
const oneUnitPerItem = (itemIndexes: number[]): Plan<WorkUnit> => ({
	units: itemIndexes.map((itemIndex) => ({ itemIndexes: [itemIndex] })),
	problems: new Map(),
});

function concurrencyOf(n8n: IExecuteFunctions): number {
	const options = n8n.getNodeParameter('options', 0, {}) as IDataObject;
	return Math.max(1, Math.min(20, Number(options.concurrency ?? 5) || 5));
}

/**
 * Walks the input items for every operation: plans them (bad input is found before anything is sent), runs the
 * units of work several at a time, keeps output in input order, pairs every output item to its input item, and
 * applies Continue On Fail.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = chooseOperation(this);
	const transport = new Transport(this, await readCredential(this), new RateGate());
	const api = new ImageDetectorApi(transport);
	const poller = new Poller(async (id, scope) => await api.query(id, scope), this.getExecutionCancelSignal?.());
	const context: OperationContext = { n8n: this, api, poller };
	const continueOnFail = this.continueOnFail();
	const itemIndexes = this.getInputData().map((_, i) => i);

	const plan = operation.plan ? await operation.plan(context, itemIndexes) : oneUnitPerItem(itemIndexes);
	const results = new Map<number, INodeExecutionData[] | Error>();
	for (const [itemIndex, problem] of plan.problems) results.set(itemIndex, itemError(this, problem, itemIndex, transport.secrets));
	// Without Continue On Fail, one bad item stops the run before any unit starts, so no credit is spent.
	if (results.size && !continueOnFail) throw results.values().next().value;

	await runUnits(context, operation, plan, results, continueOnFail, transport.secrets);
	return [collectOutput(itemIndexes, results, continueOnFail, transport.secrets)];
}

function chooseOperation(n8n: IExecuteFunctions): Operation {
	const resource = n8n.getNodeParameter('resource', 0) as string;
	const operationName = n8n.getNodeParameter('operation', 0) as string;
	const operation = operations[resource]?.[operationName];
	if (!operation) throw new NodeOperationError(n8n.getNode(), `The operation "${operationName}" of "${resource}" is not supported`);
	return operation;
}

/** Runs the units; without Continue On Fail, the first failure starts no new unit (running ones finish). */
async function runUnits(
	context: OperationContext,
	operation: Operation,
	plan: Plan<WorkUnit>,
	results: Map<number, INodeExecutionData[] | Error>,
	continueOnFail: boolean,
	secrets: string[],
): Promise<void> {
	let stopped = false;
	await pool(
		plan.units,
		plan.concurrency ?? concurrencyOf(context.n8n),
		async (unit) => {
			try {
				for (const [itemIndex, items] of await operation.execute(context, unit)) results.set(itemIndex, items);
			} catch (error) {
				for (const itemIndex of unit.itemIndexes) results.set(itemIndex, itemError(context.n8n, error, itemIndex, secrets));
				if (!continueOnFail) stopped = true;
			}
		},
		() => !stopped,
	);
}

/**
 * The output in input order: each item's outputs, paired to it, or (Continue On Fail) its error as an item; no
 * secret in any of it.
 */
function collectOutput(
	itemIndexes: number[],
	results: Map<number, INodeExecutionData[] | Error>,
	continueOnFail: boolean,
	secrets: string[],
): INodeExecutionData[] {
	const output: INodeExecutionData[] = [];
	for (const itemIndex of itemIndexes) {
		const result = results.get(itemIndex);
		if (result instanceof Error) {
			if (!continueOnFail) throw result;
			output.push({ json: errorJson(result), pairedItem: { item: itemIndex } });
		} else if (result) {
			for (const item of result) output.push({ ...item, json: redactJson(item.json, secrets), pairedItem: item.pairedItem ?? { item: itemIndex } });
		}
	}
	return output;
}

/** What a Continue On Fail item says: the message, the fix, and the document or batch ID when there is one. */
function errorJson(error: Error): IDataObject {
	const e = error as Error & { description?: string; httpCode?: string; context?: IDataObject };
	const json: IDataObject = { error: e.message };
	if (e.description) json.description = e.description;
	if (e.httpCode) json.httpCode = e.httpCode;
	if (e.context?.documentId) json.id = e.context.documentId;
	if (e.context?.batchId) json.batchId = e.context.batchId;
	return json;
}
