/*
 * libFuzzer target for the config loader (YAML through libyaml, then
 * every key's validation, rules with PCRE2 compilation) and, for files
 * that load, the rule set built from them: the prefilter's literal
 * extraction runs on every pattern the fuzzer invents.  Errors must be
 * reported, memory freed (LeakSanitizer), nothing read out of bounds.
 * A keyspace that loads must pass its own check and map a few values of
 * every table to a shard it has.
 */
#include "config.h"
#include "rules.h"
#include "shard_map.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_keyspace(const struct keyspace *ks)
{
	static const char *const values[] = {"42", "-7", "1.5", "abc", "1e3"};
	char err[300];

	if (keyspace_check(ks, err, sizeof(err)))
		abort();
	for (unsigned i = 0; i < ks->ntables; i++)
		for (unsigned v = 0; v < 5; v++) {
			int s = shard_for_value(ks, &ks->tables[i], values[v],
						strlen(values[v]), v & 1);

			if (s >= (int)ks->nshards)
				abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	cli_defaults(&cfg);
	if (config_load_string("fuzz.yaml", (const char *)data, size, &cfg, err,
			       sizeof(err)) == 0) {
		struct rule_spec *specs;
		unsigned n;
		if (rules_specs_from_config(&cfg, &specs, &n, err, sizeof(err)) == 0) {
			struct ruleset *rs = ruleset_build(specs, n, 2, err, sizeof(err));
			if (rs) {
				struct rules_worker *rw = rules_worker_new(rs, 1);
				struct rule_input in = {
					.cmd = 3, .text = "SELECT 1 FROM t", .text_len = 15,
					.user = "u", .schema = "s",
				};
				struct rule_outcome o;
				if (rw) {
					rules_eval(rw, &in, 0, &o);
					free(o.rewritten);
					rules_worker_free(rw);
				}
				ruleset_free(rs);
			}
			free(specs);
		}
		if (cfg.keyspace)
			check_keyspace(cfg.keyspace);
	}
	config_free(&cfg);
	return 0;
}
