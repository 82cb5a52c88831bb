#!/usr/bin/env bash
# Rolls out function revisions to one environment; used by .github/workflows/deploy.yml, runnable by hand.
#
#   knative/deploy.sh <env> <digests-dir> [--canary <sha7> <percent> | --promote <sha7>]
#
# <digests-dir> holds one file per function to roll out, named after it, containing the image reference
# pushed by CI (<registry>/concert/<fn>@sha256:...). Only those Services (and their sources) are applied,
# so the others keep their running revision; shared objects (ConfigMap, Kafka auth, pre-rollout Jobs) are applied too.
# Every rendered object passes knative/validate.ts before kubectl sees it.
#   (default)   apply: the new template becomes the latest revision and takes 100% once Ready
#   --canary    the new revision is named <fn>-<sha7> and gets <percent>% (tag canary), the serving one the rest (tag stable);
#               a function with no Service yet gets 100% at once (its first deploy has nothing to compare with)
#   --promote   100% to <fn>-<sha7>
# Needs kustomize, kubectl (current context = the target cluster), node with the repo's npm deps.
set -euo pipefail

env="${1:?usage: deploy.sh <env> <digests-dir> [--canary <sha7> <percent> | --promote <sha7>]}"
digests="${2:?digests dir}"
mode="${3:-apply}"
root="$(cd "$(dirname "$0")/.." && pwd)"
overlay="$root/knative/overlays/$env"
KUSTOMIZE="${KUSTOMIZE:-kustomize}"
KUBECTL="${KUBECTL:-kubectl}"
TSX="${TSX:-$root/node_modules/.bin/tsx}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

[ -d "$overlay" ] || { echo "no overlay $overlay" >&2; exit 64; }
mapfile -t functions < <(find "$digests" -maxdepth 1 -type f -printf '%f\n' | sort)
[ "${#functions[@]}" -gt 0 ] || { echo "nothing to deploy"; exit 0; }
namespace="$(awk '/^namespace:/ {print $2}' "$overlay/kustomization.yaml")"

# Pin each image by digest in a scratch copy of knative/, never in the checkout.
cp -r "$root/knative" "$work/knative"
for fn in "${functions[@]}"; do
  ref="$(tr -d '[:space:]' < "$digests/$fn")"
  [[ "$ref" == *@sha256:* ]] || { echo "$fn: $ref is not pinned by digest" >&2; exit 65; }
  (cd "$work/knative/overlays/$env" && "$KUSTOMIZE" edit set image "concert/$fn=$ref")
done
"$KUSTOMIZE" build "$work/knative/overlays/$env" > "$work/rendered.yaml"
# The strict schemas need the upstream CRD files: a no-op when they are cached or KNATIVE_CRDS_DIR has them.
[[ -n "${KNATIVE_CRDS_DIR:-}" ]] || "$TSX" "$root/knative/fetch-crds.ts"
"$TSX" "$root/knative/validate.ts" "$work/rendered.yaml"

selector="app.kubernetes.io/name in ($(IFS=,; echo "${functions[*]}"))"
# Jobs are immutable and run once per rollout: the last run goes, the new one is applied with the other
# objects without a name label (ConfigMap, the Kafka sources' auth Secret, the Jobs' ExternalSecret), and
# the migrations and topics must complete before any Service sees a new revision.
"$KUBECTL" delete job -n "$namespace" -l app.kubernetes.io/component=pre-rollout --ignore-not-found
"$KUBECTL" apply -n "$namespace" -f "$work/rendered.yaml" -l '!app.kubernetes.io/name'
"$KUBECTL" wait -n "$namespace" --for=condition=complete job -l app.kubernetes.io/component=pre-rollout --timeout=600s
# Each function's SecretStore and ExternalSecret, whatever the mode, so its Secret exists when its pods start.
"$KUBECTL" apply -n "$namespace" -f "$work/rendered.yaml" -l "concert.dev/secrets-for in ($(IFS=,; echo "${functions[*]}"))"

apply_sources() {
  if grep -q "concert.dev/source-for: $1\$" "$work/rendered.yaml"; then
    "$KUBECTL" apply -n "$namespace" -f "$work/rendered.yaml" -l "concert.dev/source-for=$1"
  fi
}

# Services that run this function's image with other settings (queue-stream runs enter-queue's): the new
# digest reaches them too, without a canary of their own (they take it when the function is promoted).
apply_image_siblings() {
  if grep -q "concert.dev/image: $1\$" "$work/rendered.yaml"; then
    "$KUBECTL" apply -n "$namespace" -f "$work/rendered.yaml" -l "concert.dev/image=$1,app.kubernetes.io/name!=$1"
  fi
}

for fn in "${functions[@]}"; do
  case "$mode" in
    apply)
      "$KUBECTL" apply -n "$namespace" -f "$work/rendered.yaml" -l "app.kubernetes.io/name=$fn"
      apply_image_siblings "$fn"
      ;;
    --canary)
      sha="${4:?sha7}"; percent="${5:?percent}"
      found="$("$KUBECTL" get ksvc "$fn" -n "$namespace" --ignore-not-found \
        -o jsonpath='{.metadata.name}/{.status.latestReadyRevisionName}')"
      if [ -z "$found" ]; then
        # First rollout of this function: no revision serves yet, so there is nothing to split against.
        echo "$fn: no Service yet, first deploy takes 100% without a canary"
        "$TSX" "$root/knative/canary.ts" --service "$fn" --candidate "$sha" --promote \
          < "$work/rendered.yaml" > "$work/$fn.yaml"
      else
        stable="${found#*/}"
        [ -n "$stable" ] || { echo "$fn: no ready revision to keep as stable" >&2; exit 66; }
        "$TSX" "$root/knative/canary.ts" --service "$fn" --candidate "$sha" --stable "$stable" --percent "$percent" \
          < "$work/rendered.yaml" > "$work/$fn.yaml"
      fi
      "$TSX" "$root/knative/validate.ts" "$work/$fn.yaml"
      "$KUBECTL" apply -n "$namespace" -f "$work/$fn.yaml"
      apply_sources "$fn"
      ;;
    --promote)
      sha="${4:?sha7}"
      "$TSX" "$root/knative/canary.ts" --service "$fn" --candidate "$sha" --promote \
        < "$work/rendered.yaml" > "$work/$fn.yaml"
      "$TSX" "$root/knative/validate.ts" "$work/$fn.yaml"
      "$KUBECTL" apply -n "$namespace" -f "$work/$fn.yaml"
      apply_sources "$fn"
      apply_image_siblings "$fn"
      ;;
    *) echo "unknown mode $mode" >&2; exit 64 ;;
  esac
done

for fn in "${functions[@]}"; do
  "$KUBECTL" wait -n "$namespace" --for=condition=Ready "ksvc/$fn" --timeout=300s
done
echo "deployed to $env ($mode): ${functions[*]} (selector: $selector)"
