#!/usr/bin/env bash
# deploy_with_security.sh: a deployment gated by Vigil.
#
#   1. deploy the infrastructure          (INFRA_CMD)
#   2. install sensors tagged deployment:<id> and env:<env>   (SENSORS_CMD)
#   3. wait for the sensors to come online  (vigil sensors wait)
#   4. run the security baseline             (vigil baseline)
#   5. deploy the application              (APP_CMD)
#   6. watch the deployment's detections   (vigil gate); roll back when it fails (ROLLBACK_CMD)
#   7. finish: report and push metrics      (vigil metrics push, when a Datadog agent is configured)
#
# The deployment's own steps are commands you give in the environment; each runs with
# DEPLOYMENT_ID and ENVIRONMENT exported, so the infrastructure can hand the id to the
# sensors' user-data (VIGIL_DEPLOYMENT, see scripts/user-data.sh):
#   INFRA_CMD     default: terraform apply -auto-approve -var deployment_id=$DEPLOYMENT_ID -var environment=$ENVIRONMENT
#   SENSORS_CMD   default: none (the instances' user-data installs and tags the sensor)
#   APP_CMD       required, e.g. ./deploy_app.sh
#   ROLLBACK_CMD  default: none (the script only fails)
# Vigil's CLI reads VIGIL_API_URL, VIGIL_API_KEY and VIGIL_ORG.
#
# Settings (environment, defaults in brackets):
#   DEPLOYMENT_ID [uuidgen]   ENVIRONMENT [production]   SENSOR_COUNT [1]
#   SENSOR_VERSION []         REQUIRED_RULES [] (file of rule names)
#   WAIT_TIMEOUT [10m]        GATE_DURATION [5m]   GATE_THRESHOLD [5]   GATE_SEVERITY []
#
# Exit codes: 0 deployed and verified, 1 a check failed (sensors did not come up,
# the baseline failed, the gate tripped: rolled back when ROLLBACK_CMD is set),
# 2 configuration error, 3 Vigil's API could not be reached, 4 no sensor of the
# deployment reported during the gate (not rolled back: nothing was watched).
set -euo pipefail

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

DEPLOYMENT_ID="${DEPLOYMENT_ID:-$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)}"
ENVIRONMENT="${ENVIRONMENT:-production}"
SENSOR_COUNT="${SENSOR_COUNT:-1}"
SENSOR_VERSION="${SENSOR_VERSION:-}"
REQUIRED_RULES="${REQUIRED_RULES:-}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-10m}"
GATE_DURATION="${GATE_DURATION:-5m}"
GATE_THRESHOLD="${GATE_THRESHOLD:-5}"
GATE_SEVERITY="${GATE_SEVERITY:-}"
INFRA_CMD="${INFRA_CMD:-terraform apply -auto-approve -var deployment_id=${DEPLOYMENT_ID} -var environment=${ENVIRONMENT}}"
SENSORS_CMD="${SENSORS_CMD:-}"
APP_CMD="${APP_CMD:-}"
ROLLBACK_CMD="${ROLLBACK_CMD:-}"
VIGIL="${VIGIL:-vigil}"
export DEPLOYMENT_ID ENVIRONMENT

if [ -z "$APP_CMD" ]; then
	log "APP_CMD is not set: export the command that deploys the application (e.g. APP_CMD=./deploy_app.sh)"
	exit 2
fi
for v in VIGIL_API_URL VIGIL_API_KEY; do
	if [ -z "${!v:-}" ]; then
		log "$v is not set: export it (see docs/devops.md)"
		exit 2
	fi
done
if ! command -v "$VIGIL" >/dev/null 2>&1; then
	log "the vigil CLI is not on PATH: install it or set VIGIL=/path/to/vigil"
	exit 2
fi

tag="deployment:${DEPLOYMENT_ID}"
log "deployment ${DEPLOYMENT_ID} (${ENVIRONMENT})"

rollback() {
	if [ -n "$ROLLBACK_CMD" ]; then
		log "rolling back: $ROLLBACK_CMD"
		bash -c "$ROLLBACK_CMD" || log "rollback failed: act by hand"
	fi
}

# 1. infrastructure
log "1/7 deploying infrastructure: $INFRA_CMD"
bash -c "$INFRA_CMD"

# 2. sensors, tagged with the deployment
if [ -n "$SENSORS_CMD" ]; then
	log "2/7 installing sensors: $SENSORS_CMD"
	bash -c "$SENSORS_CMD"
else
	log "2/7 sensors: installed by the instances' user-data with VIGIL_DEPLOYMENT=${DEPLOYMENT_ID} VIGIL_ENV=${ENVIRONMENT}"
fi

# 3. wait for them
log "3/7 waiting for ${SENSOR_COUNT} sensors tagged ${tag} (up to ${WAIT_TIMEOUT})"
"$VIGIL" sensors wait --tag "$tag" --tag "env:${ENVIRONMENT}" --count "$SENSOR_COUNT" --timeout "$WAIT_TIMEOUT"

# 4. baseline
log "4/7 security baseline"
baseline_args=(--deployment "$DEPLOYMENT_ID" --count "$SENSOR_COUNT")
[ -n "$SENSOR_VERSION" ] && baseline_args+=(--version "$SENSOR_VERSION")
[ -n "$REQUIRED_RULES" ] && baseline_args+=(--require-rules "$REQUIRED_RULES")
"$VIGIL" baseline "${baseline_args[@]}"

# 5. application
log "5/7 deploying the application: $APP_CMD"
bash -c "$APP_CMD"

# 6. gate
log "6/7 watching ${tag} for ${GATE_DURATION} (threshold ${GATE_THRESHOLD})"
gate_args=(--tag "$tag" --duration "$GATE_DURATION" --threshold "$GATE_THRESHOLD")
[ -n "$GATE_SEVERITY" ] && gate_args+=(--severity "$GATE_SEVERITY")
set +e
"$VIGIL" gate "${gate_args[@]}"
gate=$?
set -e
case "$gate" in
0) ;;
1)
	log "the gate tripped: too many detections on ${tag}"
	rollback
	exit 1
	;;
4)
	log "no sensor tagged ${tag} reported during the gate: the deployment is unmonitored; not rolling back automatically; check the sensors (vigil sensors list --tag ${tag})"
	exit 4
	;;
*)
	log "the gate could not decide (exit ${gate}): not rolling back automatically; check Vigil's API and decide"
	exit "$gate"
	;;
esac

# 7. finish
if [ -n "${DD_AGENT_HOST:-}" ]; then
	log "7/7 pushing security metrics to Datadog at ${DD_AGENT_HOST}"
	"$VIGIL" metrics push --deployment "$DEPLOYMENT_ID" --window "$GATE_DURATION" || log "metrics push failed (the deployment stands)"
fi
log "7/7 deployment ${DEPLOYMENT_ID} complete and verified"
