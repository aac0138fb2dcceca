using System;
using System.Linq;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary><c>--pose-loss</c>: the squared distance between rotation matrices, or the distance
/// itself (<c>angle</c>), which weighs an item by its error and not by its square.</summary>
public sealed class PoseLossTests
{
    private static readonly ModelConfig Config = new() { Heads = [HeadConfig.Of("pose", poseFrame: "camera")] };

    /// <summary>A batch whose truths are rotations about one axis by the given angles (degrees).</summary>
    private static Batch Truths(params double[] degrees)
    {
        var b = new Batch(degrees.Length, 8, 0, 0);
        Span<double> r = stackalloc double[9];
        for (int i = 0; i < degrees.Length; i++)
        {
            Rotation.FromEuler(degrees[i], 0, 0, r);
            for (int j = 0; j < 9; j++)
            {
                b.Rotation[(i * 9) + j] = (float)r[j];
            }

            b.PoseWeight[i] = 1;
        }

        return b;
    }

    [Fact]
    public void Each_loss_is_the_stated_function_of_the_angle_between_prediction_and_truth()
    {
        using var scope = NewDisposeScope();
        double[] angles = [10, 40];
        Objective.Targets t = Objective.ToTensors(Truths(angles));
        Tensor identity = eye(3).unsqueeze(0).expand(2, 3, 3); // both predictions: no turn at all
        double Of(string loss) => new Objective(Config, null, loss).Loss([identity], t).Total.item<float>();

        // The chord between rotations by a: |R - I|_F = 2 sqrt 2 sin(a / 2).
        double[] chord = [.. angles.Select(a => 2 * Math.Sqrt(2) * Math.Sin(a * Math.PI / 360))];
        Assert.Equal(chord.Average(c => c * c), Of(PoseLosses.Squared), 5);
        Assert.Equal(chord.Average(), Of(PoseLosses.Angle), 5);
        Assert.Contains("'l1' is not squared or angle", Assert.Throws<ArgumentException>(() => new Objective(Config, null, "l1")).Message);
    }

    [Fact]
    public void The_angle_loss_fits_the_many_and_the_squared_loss_is_pulled_by_the_few()
    {
        // Four truths near no turn and one 120 degrees away, fitted by one shared rotation (a free
        // 6D vector through the pose head's Gram-Schmidt): the squared loss settles near the
        // mean, pulled far towards the outlier; the angle loss near the many.
        Objective.Targets t;
        using (var scope = NewDisposeScope())
        {
            t = Objective.ToTensors(Truths(-2, -1, 1, 2, 120));
            t = t with { Rotation = t.Rotation.MoveToOuterDisposeScope(), PoseW = t.PoseW.MoveToOuterDisposeScope() };
        }

        double Fitted(string loss)
        {
            using var scope = NewDisposeScope();
            var sixD = new TorchSharp.Modules.Parameter(tensor(new float[] { 1, 0, 0, 0, 1, 0 }).reshape(1, 6));
            var optimizer = optim.Adam([sixD], 0.01);
            var objective = new Objective(Config, null, loss);
            for (int step = 0; step < 600; step++)
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor r = PoseHead.SixDToMatrix(sixD).expand(5, 3, 3);
                objective.Loss([r], t).Total.backward();
                optimizer.step();
            }

            float[] m = PoseHead.SixDToMatrix(sixD.detach()).data<float>().ToArray();
            return Rotation.ToEuler(m.AsSpan()).Yaw;
        }

        double squared = Fitted(PoseLosses.Squared), angle = Fitted(PoseLosses.Angle);
        Assert.True(Math.Abs(angle) < 3, $"angle loss: fitted yaw {angle:F2} degrees, the many are within 2");
        Assert.True(squared > 10, $"squared loss: fitted yaw {squared:F2} degrees, expected pulled past 10 towards the 120 degree outlier (the mean's is 13.9)");
        t.Rotation.Dispose();
        t.PoseW.Dispose();
    }
}
