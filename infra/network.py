"""The VPC and the ECS cluster. Cost-aware by default: no NAT gateway (about 32 USD a month
each); tasks then run in public subnets with public IPs, reachable only through their
security groups. Ask for NAT gateways to put them in private subnets."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, nat_gateways: int) -> None:
        super().__init__(scope, construct_id)
        subnets = [ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)]
        if nat_gateways:
            subnets.append(
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                )
            )
        self.vpc = ec2.Vpc(
            self, "Vpc", max_azs=2, nat_gateways=nat_gateways, subnet_configuration=subnets
        )
        self.vpc.add_flow_log("FlowLog")
        self.tasks_public = nat_gateways == 0
        self.task_subnets = ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PUBLIC
            if self.tasks_public
            else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
