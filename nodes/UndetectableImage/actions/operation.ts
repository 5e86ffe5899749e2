import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { ImageDetectorApi } from '../api/client';
import type { Poller } from '../api/poller';
import { InputProblem } from '../transport/errors';

/** What every operation gets for one node run. */
export interface OperationContext {
	n8n: IExecuteFunctions;
	api: ImageDetectorApi;
	poller: Poller;
}

/** Work done as one piece: one input item, or (Bulk Detect from items) the items packed into one ZIP. */
export interface WorkUnit {
	itemIndexes: number[];
}

/** What the plan step decided before anything was sent. */
export interface Plan<U extends WorkUnit> {
	units: U[];
	/** Input items that cannot be done, with the reason: nothing is sent for them. */
	problems: Map<number, Error>;
	/** How many units run at once (default: the Concurrency option). */
	concurrency?: number;
}

/**
 * One operation: its parameters, an optional plan step that sees every input item before anything is sent (to
 * refuse bad input before a credit is spent, or to pack items together), and the work for one unit. The router
 * owns the item loop, concurrency, pairing and Continue On Fail; operations only return outputs or throw.
 */
export interface Operation<U extends WorkUnit = WorkUnit> {
	description: INodeProperties[];
	plan?(context: OperationContext, itemIndexes: number[]): Promise<Plan<U>>;
	/** The output items of each input item of the unit (the router adds pairedItem where an item has none). */
	execute(context: OperationContext, unit: U): Promise<Map<number, INodeExecutionData[]>>;
}

/**
 * An operation that works item by item: `check` (optional) runs for every item before any is executed, and
 * `run` makes one item's output.
 */
export function perItem(
	description: INodeProperties[],
	run: (context: OperationContext, itemIndex: number) => Promise<INodeExecutionData[]>,
	check?: (context: OperationContext, itemIndex: number) => Promise<void>,
): Operation {
	return {
		description,
		plan: check
			? async (context, itemIndexes) => {
					const problems = new Map<number, Error>();
					const units: WorkUnit[] = [];
					for (const itemIndex of itemIndexes) {
						const problem = await problemIn(context.n8n, async () => await check(context, itemIndex));
						if (problem) problems.set(itemIndex, problem);
						else units.push({ itemIndexes: [itemIndex] });
					}
					return { units, problems };
				}
			: undefined,
		execute: async (context, unit) => new Map([[unit.itemIndexes[0], await run(context, unit.itemIndexes[0])]]),
	};
}

/**
 * Runs a check of the input: a problem with the input is returned (it is that item's), anything else is not the
 * input's fault and stops the run.
 */
export async function problemIn(n8n: IExecuteFunctions, check: () => Promise<unknown>): Promise<InputProblem | undefined> {
	try {
		await check();
		return undefined;
	} catch (error) {
		if (error instanceof InputProblem) return error;
		throw new NodeOperationError(n8n.getNode(), error as Error);
	}
}
