/**
 * The node's schedule in one place: how long it waits before asking again, per request and per result. These are
 * the production values. The test harness loads this same module and shortens them, so that the suite answers in
 * seconds without waiting for real backoffs; tests about timing put the production values back. Nothing here
 * reads the environment.
 */
export const timing = {
	/** The first backoff after a failed request; it doubles per attempt (each wait 50-100 % of it, at random). */
	backoffBaseMs: 500,
	/** The longest one backoff may be. */
	backoffMaxMs: 10_000,
	/** The longest the backoffs of one call may add up to. */
	retryBudgetMs: 120_000,
	/** A request with no answer for this long is abandoned (uploads and downloads get more). */
	requestTimeoutMs: 30_000,
	/**
	 * The first /query after a submission while nothing has been learned yet in this run, per phase: the score;
	 * the score and the heatmap (made after it); the score and the analysis; a bulk batch.
	 */
	firstQueryMs: { result: 1000, 'result+heatmap': 1700, 'result+analysis': 2500, bulk: 1500 } as Record<string, number>,
	/** The wait between /query calls for one document: starts here, grows by 1.3 each time, up to the max. */
	queryIntervalMs: 100,
	maxQueryIntervalMs: 5000,
	/**
	 * The wait between the queries of the one document that finds out how long a phase takes (the others hold
	 * theirs): short and not growing, so that what it learns is precise; it costs one document a few queries.
	 */
	probeIntervalMs: 100,
	/** Check Credits has no Timeout option: it ends within this, whatever the API does. */
	checkCreditsBoundMs: 120_000,
	/** After a heatmap or preview answered 202 (still being made): the first wait before asking again; x1.5, up to 5 s. */
	assetRetryMs: 500,
};
