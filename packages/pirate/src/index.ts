/**
 * @zg/pirate: the Guide's request-reply reliability patterns (chapters 3–4).
 *
 * @packageDocumentation
 */

// --- part 1: load balancing, async client/server, Lazy / Simple / Paranoid Pirate, Freelance ---

// --- part 2: Majordomo (7/MDP, 8/MMI, 18/MDP), asynchronous Majordomo, Titanic (9/TSP) ---
