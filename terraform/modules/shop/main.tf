# The shop in an existing cluster: a namespace, NATS (JetStream), Redis and MongoDB as pinned Helm releases, and one
# Deployment per Moleculer node type, all running the same image with SERVICES=<node type>.

locals {
  # Ports baked into the image (README env table): gateway HTTP (api only), health (/live, /ready) and Prometheus.
  gateway_port = 3000
  health_port  = 3001
  metrics_port = 3030
  # The load generator's page and control API (loadgen only, not published: port-forward to reach it).
  loadgen_port = 8089

  # The non-root user of the image.
  run_as_user = 1000

  common_labels = merge(var.labels, {
    "app.kubernetes.io/part-of"    = "moleculer-shop"
    "app.kubernetes.io/managed-by" = "terraform"
  })

  # Selector labels per node type (immutable once a Deployment exists).
  selector_labels = {
    for node_type in keys(var.replicas) : node_type => {
      "app.kubernetes.io/name"      = "moleculer-shop"
      "app.kubernetes.io/instance"  = var.namespace
      "app.kubernetes.io/component" = node_type
    }
  }

  cluster_domain = "${var.namespace}.svc.cluster.local"
  transporter    = "nats://nats.${local.cluster_domain}:4222"
  cacher         = "redis://:${random_password.redis.result}@redis-master.${local.cluster_domain}:6379"
  mongo_uri      = "mongodb://shop:${random_password.mongodb.result}@mongodb.${local.cluster_domain}:27017/${var.mongodb_database}?authSource=${var.mongodb_database}"

  config = merge(var.extra_env, {
    NODE_ENV                    = "production"
    TRANSPORTER                 = local.transporter
    NAMESPACE                   = var.moleculer_namespace
    LOGLEVEL                    = var.log_level
    PORT                        = tostring(local.gateway_port)
    HEALTH_PORT                 = tostring(local.health_port)
    METRICS_PORT                = tostring(local.metrics_port)
    RATE_LIMIT                  = tostring(var.rate_limit)
    AUTH_RATE_LIMIT             = tostring(var.auth_rate_limit)
    TRUSTED_PROXIES             = join(",", var.trusted_proxies)
    ORDER_RECOVERY_AFTER        = tostring(var.order_recovery_after)
    ORPHAN_SWEEP_AFTER          = tostring(var.orphan_sweep_after)
    ORDER_RECORD_RETENTION_DAYS = tostring(var.order_record_retention_days)
    # Read by the loadgen node only: it sends load to the gateway's Service, nowhere else.
    LOADGEN_TARGET = "http://shop-api.${local.cluster_domain}"
    LOADGEN_HOST   = "0.0.0.0"
    LOADGEN_PORT   = tostring(local.loadgen_port)
    # Runs long enough to watch an HPA scale (the engine's ceiling is 3600 s).
    LOADGEN_MAX_DURATION = "1800"
  })

  # Connection strings carrying passwords live in the Secret, not the ConfigMap.
  secret = {
    JWT_SECRET     = var.jwt_secret
    ADMIN_EMAIL    = var.admin_email
    ADMIN_PASSWORD = var.admin_password
    CACHER         = local.cacher
    MONGO_URI      = local.mongo_uri
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Namespace, configuration and credentials
# ---------------------------------------------------------------------------------------------------------------------

resource "kubernetes_namespace_v1" "shop" {
  metadata {
    name = var.namespace
    labels = merge(local.common_labels, {
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
    })
  }
}

resource "random_password" "redis" {
  length  = 32
  special = false
}

resource "random_password" "mongodb" {
  length  = 32
  special = false
}

resource "random_password" "mongodb_root" {
  length  = 32
  special = false
}

resource "kubernetes_config_map_v1" "shop" {
  metadata {
    name      = "moleculer-shop"
    namespace = kubernetes_namespace_v1.shop.metadata[0].name
    labels    = local.common_labels
  }

  data = local.config
}

resource "kubernetes_secret_v1" "shop" {
  metadata {
    name      = "moleculer-shop"
    namespace = kubernetes_namespace_v1.shop.metadata[0].name
    labels    = local.common_labels
  }

  type = "Opaque"
  data = local.secret
}

# ---------------------------------------------------------------------------------------------------------------------
# Stateful dependencies: pinned Helm charts
# ---------------------------------------------------------------------------------------------------------------------

resource "helm_release" "nats" {
  name       = "nats"
  namespace  = kubernetes_namespace_v1.shop.metadata[0].name
  repository = "https://nats-io.github.io/k8s/helm/charts/"
  chart      = "nats"
  version    = var.nats_chart_version
  atomic     = true
  timeout    = 600

  values = [yamlencode({
    fullnameOverride = "nats"
    config = {
      cluster = {
        enabled  = var.nats_replicas > 1
        replicas = var.nats_replicas
      }
      jetstream = {
        enabled = true
        fileStore = {
          pvc = merge(
            { size = var.nats_jetstream_storage_size },
            var.storage_class == null ? {} : { storageClassName = var.storage_class }
          )
        }
      }
    }
    natsBox = { enabled = false }
  })]
}

resource "helm_release" "redis" {
  name       = "redis"
  namespace  = kubernetes_namespace_v1.shop.metadata[0].name
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "redis"
  version    = var.redis_chart_version
  atomic     = true
  timeout    = 600

  values = [yamlencode({
    fullnameOverride = "redis"
    architecture     = "standalone"
    global           = var.bitnami_image_registry == null ? {} : { imageRegistry = var.bitnami_image_registry }
    master = {
      persistence = merge(
        { size = var.redis_storage_size },
        var.storage_class == null ? {} : { storageClass = var.storage_class }
      )
    }
  })]

  set_sensitive {
    name  = "auth.password"
    value = random_password.redis.result
  }
}

resource "helm_release" "mongodb" {
  name       = "mongodb"
  namespace  = kubernetes_namespace_v1.shop.metadata[0].name
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "mongodb"
  version    = var.mongodb_chart_version
  atomic     = true
  timeout    = 900

  values = [yamlencode({
    fullnameOverride = "mongodb"
    architecture     = "standalone"
    global           = var.bitnami_image_registry == null ? {} : { imageRegistry = var.bitnami_image_registry }
    auth = {
      enabled   = true
      usernames = ["shop"]
      databases = [var.mongodb_database]
    }
    persistence = merge(
      { size = var.mongodb_storage_size },
      var.storage_class == null ? {} : { storageClass = var.storage_class }
    )
  })]

  set_sensitive {
    name  = "auth.rootPassword"
    value = random_password.mongodb_root.result
  }

  set_sensitive {
    name  = "auth.passwords[0]"
    value = random_password.mongodb.result
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# One Deployment per node type (SERVICES=<node type>)
# ---------------------------------------------------------------------------------------------------------------------

resource "kubernetes_deployment_v1" "node" {
  for_each = var.replicas

  metadata {
    name      = "shop-${each.key}"
    namespace = kubernetes_namespace_v1.shop.metadata[0].name
    labels    = merge(local.common_labels, local.selector_labels[each.key])
  }

  spec {
    replicas               = each.value
    revision_history_limit = 5

    selector {
      match_labels = local.selector_labels[each.key]
    }

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels = merge(local.common_labels, local.selector_labels[each.key])
        annotations = {
          "prometheus.io/scrape" = "true"
          "prometheus.io/port"   = tostring(local.metrics_port)
          "prometheus.io/path"   = "/metrics"
          # Roll the pods when the configuration or the credentials change (env_from is read at start only).
          "checksum/config" = sha256(jsonencode(local.config))
          "checksum/secret" = sha256(jsonencode(local.secret))
        }
      }

      spec {
        termination_grace_period_seconds = var.termination_grace_period_seconds
        automount_service_account_token  = false
        enable_service_links             = false

        security_context {
          run_as_non_root = true
          run_as_user     = local.run_as_user
          run_as_group    = local.run_as_user
          fs_group        = local.run_as_user
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        topology_spread_constraint {
          max_skew           = 1
          topology_key       = "kubernetes.io/hostname"
          when_unsatisfiable = "ScheduleAnyway"
          label_selector {
            match_labels = local.selector_labels[each.key]
          }
        }

        container {
          name              = "shop"
          image             = var.image
          image_pull_policy = var.image_pull_policy

          env {
            name  = "SERVICES"
            value = each.key
          }

          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.shop.metadata[0].name
            }
          }

          env_from {
            secret_ref {
              name = kubernetes_secret_v1.shop.metadata[0].name
            }
          }

          # Only the api node serves the shop's HTTP; the loadgen node serves its own page.
          dynamic "port" {
            for_each = each.key == "api" ? { http = local.gateway_port } : each.key == "loadgen" ? { loadgen = local.loadgen_port } : {}
            content {
              name           = port.key
              container_port = port.value
              protocol       = "TCP"
            }
          }

          port {
            name           = "health"
            container_port = local.health_port
            protocol       = "TCP"
          }

          port {
            name           = "metrics"
            container_port = local.metrics_port
            protocol       = "TCP"
          }

          startup_probe {
            http_get {
              path = "/live"
              port = local.health_port
            }
            period_seconds    = 2
            failure_threshold = 30
          }

          liveness_probe {
            http_get {
              path = "/live"
              port = local.health_port
            }
            period_seconds    = 10
            timeout_seconds   = 3
            failure_threshold = 3
          }

          readiness_probe {
            http_get {
              path = "/ready"
              port = local.health_port
            }
            period_seconds    = 5
            timeout_seconds   = 3
            failure_threshold = 2
          }

          resources {
            requests = var.resources.requests
            limits   = var.resources.limits
          }

          security_context {
            run_as_non_root            = true
            run_as_user                = local.run_as_user
            run_as_group               = local.run_as_user
            privileged                 = false
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }

          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }
        }

        volume {
          name = "tmp"
          empty_dir {
            size_limit = "64Mi"
          }
        }
      }
    }
  }

  timeouts {
    create = "10m"
    update = "10m"
  }

  # The nodes need NATS, Redis and MongoDB to become ready.
  depends_on = [helm_release.nats, helm_release.redis, helm_release.mongodb]
}

resource "kubernetes_pod_disruption_budget_v1" "node" {
  for_each = { for node_type, count in var.replicas : node_type => count if count > 1 }

  metadata {
    name      = "shop-${each.key}"
    namespace = kubernetes_namespace_v1.shop.metadata[0].name
    labels    = merge(local.common_labels, local.selector_labels[each.key])
  }

  spec {
    max_unavailable = "1"
    selector {
      match_labels = local.selector_labels[each.key]
    }
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Gateway Service (api node type)
# ---------------------------------------------------------------------------------------------------------------------

resource "kubernetes_service_v1" "gateway" {
  metadata {
    name        = "shop-api"
    namespace   = kubernetes_namespace_v1.shop.metadata[0].name
    labels      = merge(local.common_labels, local.selector_labels["api"])
    annotations = var.gateway_service_annotations
  }

  spec {
    type     = var.gateway_service_type
    selector = local.selector_labels["api"]

    port {
      name        = "http"
      port        = 80
      target_port = "http"
      protocol    = "TCP"
    }
  }

  wait_for_load_balancer = var.gateway_service_type == "LoadBalancer"

  depends_on = [kubernetes_deployment_v1.node]
}
