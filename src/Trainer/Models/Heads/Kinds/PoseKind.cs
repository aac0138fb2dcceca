using System;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary><c>pose</c>: the head's rotation as a 3x3 matrix, in the camera's axes or relative to
/// the ray through the head centre (<see cref="HeadConfig.Frame"/>).</summary>
internal sealed class PoseKind : HeadKind
{
    public override string Name => OutputKinds.Pose;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => h.Locator == "anchor"
        ? new AnchorPoseHead(h.OutputName, backbone, h.Frame ?? "camera", h.Blocks ?? 0)
        : new PoseHead(h.OutputName, backbone, trunk, h.Frame ?? "camera");

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        HeadLabel l = sample.Label;
        if (l.Pose is { } pose)
        {
            // The ray through the head centre, from the (moved) centre and camera of the label.
            double rx = 0, ry = 0;
            if (l.Center is { } c && l.Intrinsics is { } cam && cam[0] > 0 && cam[1] > 0)
            {
                (rx, ry) = ((c[0] - cam[2]) / cam[0], (c[1] - cam[3]) / cam[1]);
            }

            Span<double> apparent = stackalloc double[9];
            Rotation.CameraToRay(pose.Rotation, rx, ry, apparent);
            for (int j = 0; j < 9; j++)
            {
                b.Rotation[(i * 9) + j] = (float)pose.Rotation[j];
                b.RayRotation[(i * 9) + j] = (float)apparent[j];
            }

            b.Ray[i * 2] = (float)rx;
            b.Ray[(i * 2) + 1] = (float)ry;
            b.PoseWeight[i] = 1;
        }
    }

    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) =>
        Weighted(SquaredDistance(head, o, t), t.PoseW);

    /// <summary><c>--pose-loss angle</c>: the distance between the rotations, not its square
    /// (2 sqrt 2 sin(angle / 2), about 1.41 times the angle in radians while it is small), so each
    /// item weighs by its error and not by its square, as an L1 loss on the angle: the many small
    /// errors count as much as the few large ones (faces cut by the frame, profiles). Bounded
    /// gradient at zero error (<see cref="AngleEpsilon"/>).</summary>
    public static Tensor AngleLoss(HeadConfig head, Tensor o, Objective.Targets t) =>
        Weighted((SquaredDistance(head, o, t) + AngleEpsilon).sqrt(), t.PoseW);

    /// <summary>Added under the square root of <see cref="AngleLoss"/> (a floor of 0.04 degrees).</summary>
    public const double AngleEpsilon = 1e-6;

    private static Tensor SquaredDistance(HeadConfig head, Tensor o, Objective.Targets t) =>
        (o - (head.Frame == "ray" ? t.RayRotation : t.Rotation)).pow(2).sum([1, 2]);

    public override Meter NewMeter(HeadConfig head, double threshold) => new PoseMeter(head.Frame == "ray");

    /// <summary>Yaw, pitch, roll errors in the camera's axes, what a user sees: a ray-frame
    /// prediction is turned by the true head centre's ray.</summary>
    private sealed class PoseMeter(bool ray) : Meter
    {
        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.PoseWeight[i] > 0)
            {
                (double py, double pp, double pr) = ray ? CameraEuler(o.AsSpan(i * 9, 9), b.Ray[i * 2], b.Ray[(i * 2) + 1]) : Rotation.ToEuler(o.AsSpan(i * 9, 9));
                (double ty, double tp, double tr) = Rotation.ToEuler(b.Rotation.AsSpan(i * 9, 9));
                metrics.Add("yaw_mae", Rotation.AngleDifference(py, ty));
                metrics.Add("pitch_mae", Rotation.AngleDifference(pp, tp));
                metrics.Add("roll_mae", Rotation.AngleDifference(pr, tr));
            }
        }

        /// <summary>Yaw, pitch, roll in the camera's axes of a rotation relative to the ray (x, y).</summary>
        private static (double Yaw, double Pitch, double Roll) CameraEuler(Span<float> apparent, double x, double y)
        {
            Span<double> a = stackalloc double[9];
            Span<double> camera = stackalloc double[9];
            for (int j = 0; j < 9; j++)
            {
                a[j] = apparent[j];
            }

            Rotation.RayToCamera(a, x, y, camera);
            return Rotation.ToEuler(camera);
        }
    }
}
