module "datadog_org" {
  source = "../modules/datadog-aws-organization"
  # The module's "datadog" is orgsync/datadog: it inherits the default
  # configuration of that provider, `provider "ddorg"` above, by source address.
  #
  # Do not write `providers = { datadog = ddorg }` here: Terraform (1.11 to 1.15
  # at least) checks such an entry against the caller's own "datadog", which is
  # DataDog/datadog in this file, and fails with "Provider type mismatch". The
  # map is fine in a caller that does not give the name "datadog" to another
  # provider.

  name                    = "DatadogIntegration"
  organizational_unit_ids = [var.production_ou_id, var.development_ou_id]
  region                  = var.region
  tags                    = { owner = "platform" }
  account_tags            = ["managed-by:terraform"]

  account_overrides = var.payments_account_id == null ? {} : {
    (var.payments_account_id) = {
      account_tags = ["managed-by:terraform", "team:payments"]
      metrics      = { collect_custom_metrics = true }
    }
  }
}

# One of our resources in the root module: it must name its provider, since the
# local name "datadog" is the official provider here.
resource "datadog_aws_account_link" "standalone" {
  provider = ddorg
  for_each = var.standalone_account_ids

  aws_account_id = each.key
  account_tags   = ["managed-by:terraform", "standalone"]
}
