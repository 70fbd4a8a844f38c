# SAM `BuildMethod: makefile` targets (sam build runs `make build-<LogicalId>` with ARTIFACTS_DIR set).
# Functions listed here are bundled by scripts/build.ts; see the comment on VendFunction in template.yaml.

.PHONY: build-VendFunction

build-VendFunction:
	npx tsx scripts/build.ts --entry vend --outdir "$(ARTIFACTS_DIR)"

.PHONY: build-OperatorFunction

build-OperatorFunction:
	npx tsx scripts/build.ts --entry operator --outdir "$(ARTIFACTS_DIR)"
