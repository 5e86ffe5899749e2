import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { ImageDetectorApi } from '../api/client';
import type { Poller } from '../api/poller';
import type { InputFile, Selected } from '../helpers/binary';
import { fileLabel } from '../helpers/binary';
import type { FileLabel } from '../transport/errors';
import { InputProblem } from '../transport/errors';

/** What every operation gets for one node run. */
export interface OperationContext {
	n8n: IExecuteFunctions;
	api: ImageDetectorApi;
	poller: Poller;
	/** Run as an AI agent's tool: the input is the model's arguments, and the output is what the model reads. */
	tool: boolean;
	/**
	 * The submissions of this run under way, by document ID: a copy of an image in the same run (two attachments
	 * with the same bytes) waits for the first one's instead of uploading again.
	 */
	submissions: Map<string, Promise<unknown>>;
}

/**
 * One place in the output: an input item, and the position among that item's outputs (an item with several files
 * has one part per file, in field order; most operations have one part per item).
 */
export interface Slot {
	itemIndex: number;
	part: number;
}

/** Work done as one piece: one file or item, or (Bulk Detect from items) the images packed into one ZIP. */
export interface WorkUnit {
	slots: Slot[];
	/** Which file each slot is (same order as `slots`), so that an error item of a failed unit names its own. */
	labels?: Array<FileLabel | undefined>;
	/** The unit answers with one item for all its slots (a bulk batch, One Item per Batch): a failure is one item too. */
	oneOutput?: boolean;
}

/** The output items for one slot. */
export interface SlotOutput extends Slot {
	items: INodeExecutionData[];
}

/** A slot that cannot be done, with the reason (and the file it is about): nothing is sent for it. */
export interface SlotProblem extends Slot {
	error: Error;
	label?: FileLabel;
}

/** What the plan step decided before anything was sent. */
export interface Plan<U extends WorkUnit> {
	units: U[];
	problems: SlotProblem[];
	/** Outputs known without a request (a file skipped because it is no image). */
	done?: SlotOutput[];
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
	/** The output items of each slot of the unit (the router adds pairedItem where an item has none). */
	execute(context: OperationContext, unit: U): Promise<SlotOutput[]>;
}

export const slotOf = (itemIndex: number, part = 0): Slot => ({ itemIndex, part });

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
					const problems: SlotProblem[] = [];
					const units: WorkUnit[] = [];
					for (const itemIndex of itemIndexes) {
						const problem = await problemIn(context.n8n, async () => await check(context, itemIndex));
						if (problem) problems.push({ ...slotOf(itemIndex), error: problem });
						else units.push({ slots: [slotOf(itemIndex)] });
					}
					return { units, problems };
				}
			: undefined,
		execute: async (context, unit) => {
			const slot = unit.slots[0];
			return [{ ...slot, items: await run(context, slot.itemIndex) }];
		},
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

/**
 * Checks the files an item's selection found, each in its own slot (part = its place in the selection): a field
 * the item lacks, or a file `check` refuses, is that slot's problem, or with `skip` its "skipped" output instead.
 * Returns the files that passed, with what `check` made of them.
 */
export async function checkSelected<T>(
	n8n: IExecuteFunctions,
	itemIndex: number,
	selected: Selected[],
	check: (file: InputFile) => Promise<T>,
	into: { problems: SlotProblem[]; done: SlotOutput[] },
	skip?: (slot: Slot, file: InputFile, reason: string) => SlotOutput,
): Promise<Array<{ slot: Slot; file: InputFile; checked: T }>> {
	const passed: Array<{ slot: Slot; file: InputFile; checked: T }> = [];
	for (const [part, entry] of selected.entries()) {
		const slot = slotOf(itemIndex, part);
		if (!('file' in entry)) {
			into.problems.push({ ...slot, error: entry.problem, label: { binaryField: entry.field } });
			continue;
		}
		const { file } = entry;
		let checked: T | undefined;
		const problem = await problemIn(n8n, async () => (checked = await check(file)));
		if (problem && skip) into.done.push(skip(slot, file, problem.message));
		else if (problem) into.problems.push({ ...slot, error: problem, label: fileLabel(file) });
		else passed.push({ slot, file, checked: checked as T });
	}
	return passed;
}
