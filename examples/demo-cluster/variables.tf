# Inputs of the demo cluster's infrastructure. No secret has a default: credentials come from
# the environment (AWS_ACCESS_KEY_ID …) or a *.tfvars file that is not committed.

variable "cluster_name" {
  description = "The cluster's name, as chef.continuum.cluster_name in cluster.conf"
  type        = string
  default     = "demo"
}

variable "aws_region" {
  description = "The AWS region of the cluster and of its backup bucket"
  type        = string
  default     = "us-west-2"
}

variable "vpc_cidr" {
  description = "The address range of the cluster's network"
  type        = string
  default     = "10.20.0.0/16"
}

variable "image_id" {
  description = "The machine image every host boots (Ubuntu 14.04, as the platform wants)"
  type        = string
  default     = "ami-00000000000demo0"
}

variable "ssh_key_name" {
  description = "The EC2 key pair put on every host"
  type        = string
  default     = "demo-operators"
}

variable "central_count" {
  description = "Hosts of the central group (control plane and its databases)"
  type        = number
  default     = 2
}

variable "instance_manager_count" {
  description = "Hosts that run jobs"
  type        = number
  default     = 3
}

variable "instance_types" {
  description = "The EC2 instance type of each machine group"
  type        = map(string)
  default = {
    central          = "m5.large"
    monitoring       = "t3.medium"
    instance_manager = "m5.xlarge"
    orchestrator     = "t3.small"
  }
}
