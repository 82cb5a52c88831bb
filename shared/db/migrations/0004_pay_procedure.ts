/**
 * Created the first pay_reservation. Its SQL now lives in ../sql/ and migration 0006 replaces it; kept as
 * a no-op so the history of applied migrations stays intact.
 */
export async function up(): Promise<void> {}

export async function down(): Promise<void> {}
