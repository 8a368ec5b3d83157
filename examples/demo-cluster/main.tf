# The demo cluster's machines: one network, one subnet, and the four machine groups of
# cluster.conf (central, monitoring, instance_manager, orchestrator) with fixed addresses.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
}

locals {
  tags = {
    Cluster   = var.cluster_name
    ManagedBy = "terraform"
  }
}

resource "aws_vpc" "cluster" {
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = "${var.cluster_name}-vpc" })
}

resource "aws_subnet" "cluster" {
  vpc_id     = aws_vpc.cluster.id
  cidr_block = cidrsubnet(var.vpc_cidr, 8, 0)
  tags       = merge(local.tags, { Name = "${var.cluster_name}-hosts" })
}

resource "aws_subnet" "instances" {
  vpc_id     = aws_vpc.cluster.id
  cidr_block = cidrsubnet(var.vpc_cidr, 8, 1)
  tags       = merge(local.tags, { Name = "${var.cluster_name}-instance-managers" })
}

resource "aws_security_group" "cluster" {
  name   = "${var.cluster_name}-cluster"
  vpc_id = aws_vpc.cluster.id

  ingress {
    description = "everything inside the cluster"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.vpc_cidr]
  }

  ingress {
    description = "HTTPS to the routers"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.tags
}

# central: component-database, auditlog-database, api-server, auth-server, health-manager,
# nats-server, redis-server. The first host is the master database server.
resource "aws_instance" "central" {
  count                  = var.central_count
  ami                    = var.image_id
  instance_type          = var.instance_types["central"]
  subnet_id              = aws_subnet.cluster.id
  private_ip             = cidrhost(aws_subnet.cluster.cidr_block, 11 + count.index)
  key_name               = var.ssh_key_name
  vpc_security_group_ids = [aws_security_group.cluster.id]

  root_block_device {
    volume_size = 100
  }

  tags = merge(local.tags, { Name = "${var.cluster_name}-central-${count.index}", Group = "central" })
}

resource "aws_instance" "monitoring" {
  ami                    = var.image_id
  instance_type          = var.instance_types["monitoring"]
  subnet_id              = aws_subnet.cluster.id
  private_ip             = cidrhost(aws_subnet.cluster.cidr_block, 21)
  key_name               = var.ssh_key_name
  vpc_security_group_ids = [aws_security_group.cluster.id]
  tags                   = merge(local.tags, { Name = "${var.cluster_name}-monitoring", Group = "monitoring" })
}

resource "aws_instance" "instance_manager" {
  count                  = var.instance_manager_count
  ami                    = var.image_id
  instance_type          = var.instance_types["instance_manager"]
  subnet_id              = aws_subnet.instances.id
  private_ip             = cidrhost(aws_subnet.instances.cidr_block, 11 + count.index)
  key_name               = var.ssh_key_name
  vpc_security_group_ids = [aws_security_group.cluster.id]
  tags                   = merge(local.tags, { Name = "${var.cluster_name}-im-${count.index}", Group = "instance_manager" })
}

resource "aws_instance" "orchestrator" {
  ami                    = var.image_id
  instance_type          = var.instance_types["orchestrator"]
  subnet_id              = aws_subnet.cluster.id
  private_ip             = cidrhost(aws_subnet.cluster.cidr_block, 5)
  key_name               = var.ssh_key_name
  vpc_security_group_ids = [aws_security_group.cluster.id]
  tags                   = merge(local.tags, { Name = "${var.cluster_name}-orchestrator", Group = "orchestrator" })
}

# The bucket of chef.continuum.database_backups.
resource "aws_s3_bucket" "database_backups" {
  bucket = "${var.cluster_name}-continuum-db-backups"
  tags   = local.tags
}

resource "aws_s3_bucket_versioning" "database_backups" {
  bucket = aws_s3_bucket.database_backups.id
  versioning_configuration {
    status = "Enabled"
  }
}

output "central_ips" {
  value = aws_instance.central[*].private_ip
}

output "orchestrator_ip" {
  value = aws_instance.orchestrator.private_ip
}
