# ---------------------------------------------------------------------------------------------------------------------
# Shop application
# ---------------------------------------------------------------------------------------------------------------------

variable "namespace" {
  description = "Kubernetes namespace created for the shop and its NATS, Redis and MongoDB releases."
  type        = string
  default     = "moleculer-shop"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)."
  }
}

variable "image" {
  description = "The moleculer-shop image with an immutable tag or digest, e.g. ghcr.io/acme/moleculer-shop:1.4.2. One image runs every node type."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.image)) && !endswith(var.image, ":latest")
    error_message = "image must carry an explicit tag (not :latest) or a sha256 digest."
  }
}

variable "image_pull_policy" {
  description = "imagePullPolicy of the shop containers."
  type        = string
  default     = "IfNotPresent"

  validation {
    condition     = contains(["Always", "IfNotPresent", "Never"], var.image_pull_policy)
    error_message = "image_pull_policy must be Always, IfNotPresent or Never."
  }
}

variable "replicas" {
  description = "Replicas per node type. One Deployment (SERVICES=<key>) is created per entry; every node type of services/ must be listed. loadgen (the load generator) may be 0, its default: scale it up to send load."
  type        = map(number)
  nullable    = false
  default = {
    api           = 2
    customers     = 2
    products      = 2
    carts         = 2
    orders        = 2
    payments      = 2
    notifications = 1
    loadgen       = 0
  }

  validation {
    condition = (
      length(setsubtract(keys(var.replicas), ["api", "customers", "products", "carts", "orders", "payments", "notifications", "loadgen"])) == 0 &&
      length(setsubtract(["api", "customers", "products", "carts", "orders", "payments", "notifications", "loadgen"], keys(var.replicas))) == 0
    )
    error_message = "replicas must list exactly the node types api, customers, products, carts, orders, payments, notifications and loadgen."
  }

  validation {
    condition     = alltrue([for node_type, n in var.replicas : (n >= 1 || (node_type == "loadgen" && n == 0)) && floor(n) == n])
    error_message = "Every node type needs at least one replica (a whole number); only loadgen may have 0."
  }
}

variable "resources" {
  description = "CPU and memory requests and limits of every shop container."
  type = object({
    requests = map(string)
    limits   = map(string)
  })
  default = {
    requests = { cpu = "100m", memory = "192Mi" }
    limits   = { cpu = "1", memory = "512Mi" }
  }
}

variable "termination_grace_period_seconds" {
  description = "Seconds Kubernetes waits after SIGTERM; the broker needs more than 10 to drain in-flight requests."
  type        = number
  default     = 30

  validation {
    condition     = var.termination_grace_period_seconds > 10
    error_message = "termination_grace_period_seconds must be greater than 10 for the graceful shutdown."
  }
}

variable "moleculer_namespace" {
  description = "Moleculer namespace (NAMESPACE) shared by every node of this deployment."
  type        = string
  default     = "shop"
}

variable "log_level" {
  description = "Moleculer log level (LOGLEVEL)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace."
  }
}

variable "rate_limit" {
  description = "Requests per minute per client on /api (RATE_LIMIT)."
  type        = number
  default     = 600
}

variable "auth_rate_limit" {
  description = "Requests per minute per client on /api/auth (AUTH_RATE_LIMIT)."
  type        = number
  default     = 20
}

variable "trusted_proxies" {
  description = "Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES, proxy-addr syntax), e.g. the VPC CIDR when a load balancer fronts the gateway."
  type        = list(string)
  default     = []
}

variable "order_recovery_after" {
  description = "Seconds an order may stay unfinished before saga recovery takes it over (ORDER_RECOVERY_AFTER)."
  type        = number
  default     = 60
}

variable "orphan_sweep_after" {
  description = "Seconds before a stock hold or cart claim whose order is missing or settled is released (ORPHAN_SWEEP_AFTER); must exceed order_recovery_after."
  type        = number
  default     = 300
}

variable "order_record_retention_days" {
  description = "Days the stock movement records of settled orders are kept (ORDER_RECORD_RETENTION_DAYS)."
  type        = number
  default     = 30
}

variable "extra_env" {
  description = "Further non-secret environment variables for every node (e.g. CORS_ORIGINS, JWT_TTL)."
  type        = map(string)
  default     = {}
}

variable "jwt_secret" {
  description = "HS256 key for customer tokens (JWT_SECRET); at least 32 characters, required in production."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.jwt_secret) >= 32
    error_message = "jwt_secret must have at least 32 characters."
  }
}

variable "admin_email" {
  description = "E-mail of the admin account ensured at start (ADMIN_EMAIL)."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.admin_email))
    error_message = "admin_email must be an e-mail address."
  }
}

variable "admin_password" {
  description = "Password of the admin account (ADMIN_PASSWORD); at least 12 characters."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.admin_password) >= 12
    error_message = "admin_password must have at least 12 characters."
  }
}

variable "gateway_service_type" {
  description = "Type of the gateway Service: ClusterIP (put an Ingress in front) or LoadBalancer."
  type        = string
  default     = "ClusterIP"

  validation {
    condition     = contains(["ClusterIP", "NodePort", "LoadBalancer"], var.gateway_service_type)
    error_message = "gateway_service_type must be ClusterIP, NodePort or LoadBalancer."
  }
}

variable "gateway_service_annotations" {
  description = "Annotations of the gateway Service (e.g. AWS load balancer settings)."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Extra labels put on every Kubernetes object of the module."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------------------
# Stateful dependencies (Helm releases)
# ---------------------------------------------------------------------------------------------------------------------

variable "storage_class" {
  description = "StorageClass of the NATS, Redis and MongoDB volumes; null uses the cluster default."
  type        = string
  default     = null
}

variable "nats_chart_version" {
  description = "Pinned version of the nats chart (https://nats-io.github.io/k8s/helm/charts/)."
  type        = string
  default     = "1.2.6"
}

variable "nats_replicas" {
  description = "NATS servers; 1, or 3 or more for a clustered JetStream."
  type        = number
  default     = 3

  validation {
    condition     = var.nats_replicas == 1 || var.nats_replicas >= 3
    error_message = "nats_replicas must be 1 or at least 3 (JetStream clustering needs a quorum)."
  }
}

variable "nats_jetstream_storage_size" {
  description = "Size of each NATS JetStream file-store volume."
  type        = string
  default     = "10Gi"
}

variable "redis_chart_version" {
  description = "Pinned version of the Bitnami redis chart (oci://registry-1.docker.io/bitnamicharts)."
  type        = string
  default     = "19.6.4"
}

variable "redis_storage_size" {
  description = "Size of the Redis volume."
  type        = string
  default     = "2Gi"
}

variable "mongodb_chart_version" {
  description = "Pinned version of the Bitnami mongodb chart (oci://registry-1.docker.io/bitnamicharts)."
  type        = string
  default     = "15.6.26"
}

variable "mongodb_storage_size" {
  description = "Size of the MongoDB volume."
  type        = string
  default     = "20Gi"
}

variable "mongodb_database" {
  description = "MongoDB database of the shop (the path of MONGO_URI)."
  type        = string
  default     = "shop"
}

variable "bitnami_image_registry" {
  description = "Registry override for the Bitnami chart images (global.imageRegistry); null keeps the chart default."
  type        = string
  default     = null
}
