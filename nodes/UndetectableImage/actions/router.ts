import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ImageDetectorApi } from '../api/client';
import { Poller } from '../api/poller';
import { pool } from '../helpers/pool';
import type { FileLabel } from '../transport/errors';
import { itemError, redactJson } from '../transport/errors';
import { RateGate, readCredential, Transport } from '../transport/transport';
import { accountOperations } from './account';
import { imageOperations } from './image';
import type { Operation, OperationContext, Plan, Slot, WorkUnit } from './operation';
import { slotOf } from './operation';

const operations: Record<string, Record<string, Operation>> = {
	image: imageOperations,
	account: accountOperations,
};

/** Every input item is its own unit, when the operation has no plan step. */
const oneUnitPerItem = (itemIndexes: number[]): Plan<WorkUnit> => ({
	units: itemIndexes.map((itemIndex) => ({ slots: [slotOf(itemIndex)] })),
	problems: [],
});

function concurrencyOf(n8n: IExecuteFunctions): number {
	const options = n8n.getNodeParameter('options', 0, {}) as IDataObject;
	return Math.max(1, Math.min(20, Number(options.concurrency ?? 5) || 5));
}

/**
 * Whether the node runs as an AI agent's tool: n8n registers the Tool variant of a `usableAsTool` node under the
 * node's type name plus "Tool", and runs its ordinary execute with the model's arguments as the one input item.
 */
export function isToolRun(n8n: IExecuteFunctions): boolean {
	return n8n.getNode().type.endsWith('Tool');
}

/** A slot's error, the file it is about, and (one item for a whole unit) the items it answers for. */
interface Failure {
	error: Error;
	label?: FileLabel;
	pairedItems?: number[];
}

/** Each slot's outputs, or its failure; kept per input item, by part. */
type Results = Map<number, Map<number, INodeExecutionData[] | Failure>>;

const isFailure = (value: INodeExecutionData[] | Failure | undefined): value is Failure => !!value && !Array.isArray(value);

function record(results: Results, slot: Slot, value: INodeExecutionData[] | Failure) {
	if (!results.has(slot.itemIndex)) results.set(slot.itemIndex, new Map());
	results.get(slot.itemIndex)!.set(slot.part, value);
}

/**
 * Walks the input items for every operation: plans them (bad input is found before anything is sent), runs the
 * units of work several at a time, keeps output in input order, pairs every output item to its input item, and
 * applies Continue On Fail.
 *
 * As an AI agent's tool, every failure is an answer: the model reads what went wrong and how to fix it, and the
 * agent's run goes on (n8n 2.8 would end the whole execution on a thrown error; 2.41 hands the model the message
 * alone). Nothing else changes in tool mode.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	if (!isToolRun(this)) return [await runOperation(this, false)];
	const secrets: string[] = [];
	try {
		return [await runOperation(this, true, secrets)];
	} catch (error) {
		const e = itemError(this, error, 0, secrets);
		return [[{ json: redactJson(errorJson({ error: e }), secrets), pairedItem: { item: 0 } }]];
	}
}

async function runOperation(n8n: IExecuteFunctions, tool: boolean, secrets: string[] = []): Promise<INodeExecutionData[]> {
	const operation = chooseOperation(n8n);
	const transport = new Transport(n8n, await readCredential(n8n), new RateGate());
	secrets.push(...transport.secrets);
	const api = new ImageDetectorApi(transport);
	const poller = new Poller(async (id, scope) => await api.query(id, scope), n8n.getExecutionCancelSignal?.());
	const context: OperationContext = { n8n, api, poller, tool, submissions: new Map() };
	// A tool's failure is the model's answer, item by item, exactly as Continue On Fail makes it.
	const continueOnFail = tool || n8n.continueOnFail();
	const itemIndexes = n8n.getInputData().map((_, i) => i);

	const plan = operation.plan ? await operation.plan(context, itemIndexes) : oneUnitPerItem(itemIndexes);
	const results: Results = new Map();
	for (const done of plan.done ?? []) record(results, done, done.items);
	for (const problem of plan.problems) record(results, problem, { error: itemError(n8n, problem.error, problem.itemIndex, transport.secrets), label: problem.label });
	// Without Continue On Fail, one bad item stops the run before any unit starts, so no credit is spent.
	if (plan.problems.length && !continueOnFail) throw firstError(itemIndexes, results) ?? plan.problems[0].error;

	await runUnits(context, operation, plan, results, continueOnFail, transport.secrets);
	return collectOutput(itemIndexes, results, continueOnFail, transport.secrets);
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
	results: Results,
	continueOnFail: boolean,
	secrets: string[],
): Promise<void> {
	let stopped = false;
	await pool(
		plan.units,
		plan.concurrency ?? concurrencyOf(context.n8n),
		async (unit) => {
			try {
				for (const output of await operation.execute(context, unit)) record(results, output, output.items);
			} catch (error) {
				const e = itemError(context.n8n, error, unit.slots[0].itemIndex, secrets);
				if (unit.oneOutput) {
					// One item answered for the whole unit: so does its error, paired to all its items.
					record(results, unit.slots[0], { error: e, pairedItems: [...new Set(unit.slots.map((slot) => slot.itemIndex))] });
					for (const slot of unit.slots.slice(1)) record(results, slot, []);
				} else {
					unit.slots.forEach((slot, k) => record(results, slot, { error: e, label: unit.labels?.[k] }));
				}
				if (!continueOnFail) stopped = true;
			}
		},
		() => !stopped,
	);
}

/** The first error in input order (what n8n shows when the run stops). */
function firstError(itemIndexes: number[], results: Results): Error | undefined {
	for (const itemIndex of itemIndexes) {
		const parts = results.get(itemIndex);
		for (const part of [...(parts?.keys() ?? [])].sort((a, b) => a - b)) {
			const value = parts!.get(part);
			if (isFailure(value)) return value.error;
		}
	}
	return undefined;
}

/**
 * The output in input order, each item's parts in order: their outputs, paired to the item, or (Continue On Fail)
 * each error as an item; no secret in any of it.
 */
function collectOutput(itemIndexes: number[], results: Results, continueOnFail: boolean, secrets: string[]): INodeExecutionData[] {
	const failure = continueOnFail ? undefined : firstError(itemIndexes, results);
	if (failure) throw failure;
	const output: INodeExecutionData[] = [];
	for (const itemIndex of itemIndexes) {
		const parts = results.get(itemIndex);
		if (!parts) continue;
		for (const part of [...parts.keys()].sort((a, b) => a - b)) {
			const result = parts.get(part)!;
			if (isFailure(result)) {
				const pairedItem = result.pairedItems ? result.pairedItems.map((item) => ({ item })) : { item: itemIndex };
				output.push({ json: redactJson(errorJson(result), secrets), pairedItem });
				continue;
			}
			for (const item of result) output.push({ ...item, json: redactJson(item.json, secrets), pairedItem: item.pairedItem ?? { item: itemIndex } });
		}
	}
	return output;
}

/**
 * What a Continue On Fail item (and a tool's failed answer) says: the message, the fix, the file it was about and
 * the document or batch ID when there is one.
 */
function errorJson({ error, label }: Failure): IDataObject {
	const e = error as Error & { description?: string; httpCode?: string; context?: IDataObject };
	const json: IDataObject = { error: e.message };
	if (e.description) json.description = e.description;
	if (e.httpCode) json.httpCode = e.httpCode;
	const about: IDataObject = { ...label, ...e.context };
	for (const key of ['fileName', 'binaryField', 'documentId', 'batchId'] as const) {
		const value = about[key];
		if (typeof value === 'string' && value) json[key === 'documentId' ? 'id' : key] = value;
	}
	return json;
}

