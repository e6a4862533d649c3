################################################################################
# Databases and their owners, as SQL
#
# Terraform has no PostgreSQL provider here, so it cannot create roles or
# databases inside the server. The module renders them as one idempotent psql
# script (output database_bootstrap_sql) that a job runs as the Entra
# administrator.
################################################################################

locals {
  owner_list    = sort(tolist(local.owners))
  database_list = sort(keys(var.databases))

  # Names are validated as [a-z][a-z0-9_]*, so quoting with "" and '' is safe.
  database_bootstrap_sql = join("\n", concat(
    [
      "-- Databases and owners of the PostgreSQL Flexible Server ${var.name}, rendered by terraform/modules/azure/postgres.",
      "-- Idempotent: safe to run again. Run with psql (\\gexec) on the postgres database, as the Entra administrator",
      "-- ${azurerm_user_assigned_identity.admin.name} (password = an Entra access token for https://ossrdbms-aad.database.windows.net):",
      "--   PGPASSWORD=$(az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv) \\",
      "--   psql \"host=<address> port=${local.port} dbname=postgres user=${azurerm_user_assigned_identity.admin.name} sslmode=verify-full sslrootcert=<DigiCert/Microsoft root bundle>\" -f bootstrap.sql",
      "\\set ON_ERROR_STOP on",
      "",
      "-- 1. One login role per owner, mapped to the object ID of its Entra managed identity: it logs in",
      "--    with that identity's tokens only (no password exists).",
    ],
    [
      for owner in local.owner_list : <<-SQL
      SELECT pgaadauth_create_principal_with_oid('${owner}', '${azurerm_user_assigned_identity.owner[owner].principal_id}', 'service', false, false)
      WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${owner}');
      SQL
    ],
    [
      "-- 2. CREATE DATABASE ... OWNER needs membership in the owner role (PostgreSQL 16). Held only until step 4.",
    ],
    [for owner in local.owner_list : "GRANT \"${owner}\" TO CURRENT_USER;"],
    [
      "",
      "-- 3. The databases (CREATE DATABASE cannot run in a DO block, hence \\gexec). Only the owner",
      "--    and the administrator may connect: no CONNECT or TEMPORARY for PUBLIC.",
    ],
    [
      for db in local.database_list : <<-SQL
      SELECT 'CREATE DATABASE "${db}" OWNER "${var.databases[db].owner}"'
      WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '${db}')
      \gexec
      ALTER DATABASE "${db}" OWNER TO "${var.databases[db].owner}";
      REVOKE ALL ON DATABASE "${db}" FROM PUBLIC;
      GRANT CONNECT ON DATABASE "${db}" TO CURRENT_USER;
      SQL
    ],
    [
      "-- 4. Drop the temporary membership again: the administrator never inherits the owners' privileges.",
    ],
    [for owner in local.owner_list : "REVOKE \"${owner}\" FROM CURRENT_USER;"],
    [""],
  ))
}
