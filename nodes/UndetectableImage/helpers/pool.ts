/**
 * Runs `task` for every item with at most `limit` running at once, starting them in input order.
 * `shouldStart` lets the caller stop starting new ones (after an error, say); running ones finish.
 */
export async function pool<T>(
	items: T[],
	limit: number,
	task: (item: T, index: number) => Promise<void>,
	shouldStart: () => boolean = () => true,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length && shouldStart()) {
			const index = next++;
			await task(items[index], index);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
