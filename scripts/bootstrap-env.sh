#!/usr/bin/env bash
# Bootstraps one environment stack of the auth0-postgres project: creates the stack in Pulumi
# Cloud unless it exists, writes stacks/Pulumi.<stack>.yaml from a template stack file if it is
# missing, and asks for each secret the stack needs. Secrets are read without echo and handed to
# `pulumi config set --secret` on its standard input (the CLI reads the value from stdin when none
# is given on the command line), so they never appear on a command line, in the shell history or
# in the process list. See docs/ci.md.
set -euo pipefail

readonly PROJECT="auth0-postgres"
readonly -a KNOWN_ENVIRONMENTS=(local dev staging prod)
# The Management API scopes the deploy application needs (infra/auth0/deploy-scopes.ts; a test keeps
# this list, that file and the README's equal).
readonly -a DEPLOY_SCOPES=(
    create:actions
    create:client_credentials
    create:client_grants
    create:clients
    create:connections
    create:resource_servers
    create:roles
    delete:actions
    delete:client_credentials
    delete:client_grants
    delete:clients
    delete:connections
    delete:resource_servers
    delete:roles
    read:actions
    read:client_credentials
    read:client_grants
    read:client_keys
    read:clients
    read:connections
    read:connections_options
    read:resource_servers
    read:roles
    read:tenant_settings
    update:actions
    update:client_credentials
    update:client_grants
    update:clients
    update:connections
    update:connections_options
    update:resource_servers
    update:roles
    update:tenant_settings
)

usage() {
    cat <<'USAGE'
Usage: scripts/bootstrap-env.sh [options] <stack>

Bootstraps an environment stack of auth0-postgres (one of local, dev, staging, prod, or another
name; a stack with another name must set auth0-postgres:environment in its stack file).

  1. `pulumi stack init <org>/<stack>`, unless the stack exists.
  2. If stacks/Pulumi.<stack>.yaml is missing, copies the template given with --template. The copy
     drops the template's secret values and encryption settings (they belong to the template's
     stack) and sets auth0-postgres:environment to <stack> when it is an environment name. Edit the
     copy afterwards: domains, hosts and URLs are still the template's.
  3. Asks for each secret the stack needs and stores it with `pulumi config set --secret`:
       auth0ClientSecret   Auth0 dashboard > Applications > the machine-to-machine application
                           Pulumi deploys with (client id auth0-postgres:auth0.clientId) >
                           Settings > Client Secret.
       postgresPassword    The database admin password (the user auth0-postgres:postgres.username;
                           Supabase: Project Settings > Database > database password).
       hasuraAdminSecret   Only when auth0-postgres:sync.mode is "hasura": the Hasura admin secret
                           (HASURA_GRAPHQL_ADMIN_SECRET of the instance at hasura.graphqlUrl).
       supabaseAccessToken Only when auth0-postgres:supabaseAuth.enabled is true: a Supabase access
                           token that may manage the project's auth config (Dashboard > Account >
                           Access Tokens).
     Input is hidden. A secret that is already set is kept unless named with --secret.

Options:
  -o, --org ORG          Pulumi organization (default: $PULUMI_ORG, else the CLI's default org).
  -t, --template STACK   Template for a missing stack file: a stack name (stacks/Pulumi.STACK.yaml)
                         or a path to a stack file.
  -s, --secret KEY       Only (re)set this secret, even if it is set; repeat for several. Use it to
                         rotate one secret: scripts/bootstrap-env.sh --secret postgresPassword prod
  -h, --help             Show this help.

Needs the pulumi CLI, logged in (`pulumi login`). Run it from anywhere in the repository.
USAGE
}

die() {
    printf 'bootstrap-env: %s\n' "$*" >&2
    exit 1
}

say() {
    printf '%s\n' "$*" >&2
}

is_environment() {
    local name="$1" env
    for env in "${KNOWN_ENVIRONMENTS[@]}"; do
        [[ $name == "$env" ]] && return 0
    done
    return 1
}

# Where each secret comes from, shown before its prompt.
secret_source() {
    case "$1" in
        auth0ClientSecret) printf '%s' "Auth0 dashboard > Applications > the M2M application Pulumi deploys with > Settings > Client Secret" ;;
        postgresPassword) printf '%s' "the database admin password (Supabase: Project Settings > Database)" ;;
        hasuraAdminSecret) printf '%s' "the Hasura admin secret (HASURA_GRAPHQL_ADMIN_SECRET of the Hasura instance)" ;;
        supabaseAccessToken) printf '%s' "a Supabase access token that may manage the project's auth config (Dashboard > Account > Access Tokens)" ;;
        *) return 1 ;;
    esac
}

# The tenant (auth0.domain) a stack file names, lower-cased; empty when none.
stack_tenant() {
    awk -v project="$PROJECT" '
        $0 ~ ("^  " project ":auth0:") { inside = 1; if (match($0, /domain:[ \t]*["\047]?[A-Za-z0-9.-]+/)) { v = substr($0, RSTART, RLENGTH); sub(/domain:[ \t]*["\047]?/, "", v); print tolower(v); exit } next }
        inside && /^    domain:/ { v = $2; gsub(/["\047]/, "", v); print tolower(v); exit }
        inside && /^  [^ ]/ { inside = 0 }
    ' "$1"
}

# One stack per tenant, and the one-time tenant set-up the stack cannot do for itself.
check_tenant() {
    local stack="$1" file="$2" tenant other other_tenant
    tenant="$(stack_tenant "$file")"
    if [[ -n $tenant ]]; then
        for other in stacks/Pulumi.*.yaml; do
            [[ -f $other && $other != "$file" ]] || continue
            other_tenant="$(stack_tenant "$other")"
            if [[ $other_tenant == "$tenant" ]]; then
                say "WARNING: $file names the tenant $tenant, like $other. Give $stack its own tenant before the first preview: the program refuses two stacks on one tenant."
            fi
        done
    fi
    say ""
    say "Once per tenant (README, \"The Auth0 tenant: set up once\"): the deploy application (auth0-postgres:auth0.clientId) is authorized"
    say "on the Auth0 Management API with exactly these scopes:"
    say "  ${DEPLOY_SCOPES[*]}"
    say "The stack turns the tenant flag enable_client_connections off and takes the SPA off every connection but its own;"
    say "disable Username-Password-Authentication and google-oauth2 for the applications that do not need them."
}

# Copies a template stack file without its secrets or encryption settings.
copy_template() {
    local template="$1" target="$2" stack="$3" rewrite_env=0
    is_environment "$stack" && rewrite_env=1
    awk -v project="$PROJECT" -v stack="$stack" -v rewrite_env="$rewrite_env" '
        function flush() { if (held != "") { print held; held = "" } }
        {
            if (held != "") {
                # A config key whose value is on the next line: drop both when it is a secure value.
                if ($0 ~ /^    secure:/) { held = ""; dropping = 1; next }
                flush()
            }
            if (dropping) {
                if ($0 ~ /^    /) next
                dropping = 0
            }
            # The encryption settings of the template stack (passphrase salt, KMS key).
            if ($0 ~ /^(encryptionsalt|encryptedkey|secretsprovider):/) next
            # The secret keys, whatever their form.
            if ($0 ~ ("^  " project ":(auth0ClientSecret|postgresPassword|hasuraAdminSecret|supabaseAccessToken)[ \t]*:")) { dropping = 1; next }
            if ($0 ~ /^  [^ #][^:]*:[ \t]*\{[ \t]*secure:/) next
            if (rewrite_env && $0 ~ ("^  " project ":environment:")) { print "  " project ":environment: " stack; next }
            if ($0 ~ /^  [^ #].*:[ \t]*$/) { held = $0; next }
            print
        }
        END { flush() }
    ' "$template" >"$target.tmp"
    mv "$target.tmp" "$target"
}

set_secret() {
    local stack="$1" key="$2" value=""
    say ""
    say "$key: $(secret_source "$key")"
    IFS= read -r -s -p "  $key (input hidden): " value || die "$key: no value read (end of input); nothing was set"
    printf '\n' >&2
    [[ -n $value ]] || die "$key: empty value; nothing was set"
    printf '%s' "$value" | pulumi config set --secret --stack "$stack" "$key" >/dev/null
    value=""
    say "  $key set (encrypted)."
}

main() {
    local org="${PULUMI_ORG:-}" template="" stack="" arg
    local -a only=()
    while [[ $# -gt 0 ]]; do
        arg="$1"
        case "$arg" in
            -h | --help) usage; exit 0 ;;
            -o | --org) [[ $# -ge 2 ]] || die "$arg needs a value"; org="$2"; shift 2 ;;
            --org=*) org="${arg#*=}"; shift ;;
            -t | --template) [[ $# -ge 2 ]] || die "$arg needs a value"; template="$2"; shift 2 ;;
            --template=*) template="${arg#*=}"; shift ;;
            -s | --secret) [[ $# -ge 2 ]] || die "$arg needs a value"; only+=("$2"); shift 2 ;;
            --secret=*) only+=("${arg#*=}"); shift ;;
            --) shift; break ;;
            -*) die "unknown option $arg (see --help)" ;;
            *) [[ -z $stack ]] || die "one stack at a time (got $stack and $arg)"; stack="$arg"; shift ;;
        esac
    done
    if [[ $# -gt 0 ]]; then
        [[ -z $stack && $# -eq 1 ]] || die "one stack at a time"
        stack="$1"
    fi
    [[ -n $stack ]] || die "which stack? (see --help)"
    [[ $stack =~ ^[A-Za-z0-9_.-]+$ ]] || die "stack name \"$stack\" may only hold letters, digits, _ . -"
    local key
    # `${a[@]+"${a[@]}"}`: an empty array under `set -u` on bash 3.2 (macOS) too.
    for key in ${only[@]+"${only[@]}"}; do
        secret_source "$key" >/dev/null || die "--secret $key: not a secret of this stack (auth0ClientSecret, postgresPassword, hasuraAdminSecret, supabaseAccessToken)"
    done

    command -v pulumi >/dev/null 2>&1 || die "the pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)"
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || die "cannot enter the repository root"
    [[ -f Pulumi.yaml ]] || die "Pulumi.yaml not found next to scripts/; run the script from the repository"
    pulumi whoami >/dev/null 2>&1 || die "not logged in to Pulumi; run \`pulumi login\` first"

    if [[ -z $org ]]; then
        org="$(pulumi org get-default 2>/dev/null || true)"
    fi
    [[ -n $org ]] || die "no Pulumi organization: pass --org or set PULUMI_ORG"
    [[ $org =~ ^[A-Za-z0-9_.-]+$ ]] || die "organization name \"$org\" may only hold letters, digits, _ . -"
    local qualified="$org/$stack"
    local file="stacks/Pulumi.$stack.yaml"

    # The stack file first: with a passphrase provider, `stack init` adds its salt to this file.
    if [[ -f $file ]]; then
        say "$file exists; keeping it."
    else
        [[ -n $template ]] || die "$file is missing; pass --template <stack or file> to start from another stack's file"
        local template_file="$template"
        [[ -f $template_file ]] || template_file="stacks/Pulumi.$template.yaml"
        [[ -f $template_file ]] || die "template not found: $template (neither a file nor stacks/Pulumi.$template.yaml)"
        copy_template "$template_file" "$file" "$stack"
        say "Wrote $file from $template_file (secrets and encryption settings left out)."
        if ! is_environment "$stack"; then
            say "  $stack is not one of: ${KNOWN_ENVIRONMENTS[*]}. Check auth0-postgres:environment in $file."
        fi
        if grep -q '^environment:' "$file"; then
            say "  The template imports Pulumi ESC environments (top-level environment:); point them at $stack's."
        fi
    fi

    if pulumi stack select "$qualified" >/dev/null 2>&1; then
        say "Stack $qualified exists."
    else
        pulumi stack init "$qualified" >/dev/null
        say "Created stack $qualified."
    fi

    local mode
    mode="$(pulumi config get --stack "$qualified" --path sync.mode 2>/dev/null || true)"
    local postgres_only
    postgres_only="$(pulumi config get --stack "$qualified" postgresOnly 2>/dev/null || true)"
    local -a wanted=(auth0ClientSecret postgresPassword)
    # The Postgres side alone (local only) deploys nothing of Auth0: no deploy client, no sync Action.
    if [[ $postgres_only == "true" ]]; then
        wanted=(postgresPassword)
    elif [[ $mode == "hasura" ]]; then
        wanted+=(hasuraAdminSecret)
    fi
    local supabase_auth
    supabase_auth="$(pulumi config get --stack "$qualified" --path supabaseAuth.enabled 2>/dev/null || true)"
    if [[ $supabase_auth == "true" && $postgres_only != "true" ]]; then
        wanted+=(supabaseAccessToken)
    fi
    if [[ ${#only[@]} -gt 0 ]]; then
        wanted=("${only[@]}")
    fi

    for key in "${wanted[@]}"; do
        if [[ ${#only[@]} -eq 0 ]] && pulumi config get --stack "$qualified" "$key" >/dev/null 2>&1; then
            say "$key is already set; keeping it (rotate it with --secret $key)."
            continue
        fi
        set_secret "$qualified" "$key"
    done

    check_tenant "$stack" "$file"

    say ""
    say "Done. Next: review $file, then \`pulumi preview --stack $qualified --policy-pack policy\`."
    say "For CI, create the GitHub environments $stack (and $stack-token-refresh); see docs/ci.md."
}

main "$@"
