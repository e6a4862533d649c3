################################################################################
# Databases and their owners, as SQL
#
# Terraform has no PostgreSQL provider here, so it cannot create roles or
# databases inside the instance. The module renders them as one idempotent
# psql script (output database_bootstrap_sql) that an operator or a migration
# job runs as the built-in postgres user.
#
# On Cloud SQL the login roles of IAM users are created by the Cloud SQL API
# (google_sql_user), not by postgres, which therefore cannot grant their
# membership to itself. The databases belong to NOLOGIN owner roles created
# here, and each IAM user is made a member of its owner role.
################################################################################

locals {
  owner_list    = sort(tolist(local.owners))
  database_list = sort(keys(var.databases))

  # Owner and database names are validated as [a-z][a-z0-9_]*, IAM user names
  # are service account emails without their domain suffix: quoting with ""
  # and '' is safe.
  database_bootstrap_sql = join("\n", concat(
    [
      "-- Databases and owners of the Cloud SQL instance ${var.name}, rendered by terraform/modules/gcp/cloudsql.",
      "-- Idempotent: safe to run again. Run with psql (\\gexec), as the postgres user, on the postgres database,",
      "-- through the Cloud SQL Auth Proxy (the instance requires its client certificates; the proxy encrypts):",
      "--   cloud-sql-proxy --private-ip --port ${local.port} ${google_sql_database_instance.this.connection_name} &",
      "--   psql \"host=127.0.0.1 port=${local.port} dbname=postgres user=postgres\" -f bootstrap.sql",
      "-- (set the postgres password out of band first: gcloud sql users set-password postgres --instance=${var.name} --prompt-for-password).",
      "\\set ON_ERROR_STOP on",
      "",
      "-- 1. One owner role per owner, NOLOGIN: nobody logs in as it; the IAM users act through it.",
    ],
    [
      for owner in local.owner_list : <<-SQL
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${owner}') THEN
          CREATE ROLE "${owner}" NOLOGIN;
        END IF;
      END
      $$;
      SQL
    ],
    [
      "-- 2. CREATE DATABASE ... OWNER needs membership in the owner role (PostgreSQL 16: the",
      "--    implicit grant to the creator of a role is ADMIN only). Held only until step 4.",
    ],
    [for owner in local.owner_list : "GRANT \"${owner}\" TO CURRENT_USER;"],
    [
      "",
      "-- 3. The databases (CREATE DATABASE cannot run in a DO block, hence \\gexec). Only the owner",
      "--    and the postgres user may connect: no CONNECT or TEMPORARY for PUBLIC.",
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
      "-- 4. Drop the temporary membership again: postgres never inherits the owners' privileges.",
    ],
    [for owner in local.owner_list : "REVOKE \"${owner}\" FROM CURRENT_USER;"],
    [
      "",
      "-- 5. The IAM database users (created by Terraform, google_sql_user) inherit their owner role.",
    ],
    [for owner in local.owner_list : "GRANT \"${owner}\" TO \"${local.iam_users[owner]}\";"],
    [""],
  ))
}
