using System;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Detection;
using HeadTracking.Runtime.Pose;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public class KeypointPoseTests
{
    private const int Width = 640, Height = 480;
    private const double Fov = 60;

    /// <summary>The generic face's keypoints seen at a pose, with the head centre at <paramref name="centre"/>.</summary>
    private static float[] Project(double yaw, double pitch, double roll, (double X, double Y, double Z) centre)
    {
        Span<double> r = stackalloc double[9];
        Rotation.FromEuler(yaw, pitch, roll, r);
        Point3f c = KeypointPose.HeadCentre;
        double tx = centre.X - ((r[0] * c.X) + (r[1] * c.Y) + (r[2] * c.Z));
        double ty = centre.Y - ((r[3] * c.X) + (r[4] * c.Y) + (r[5] * c.Z));
        double tz = centre.Z - ((r[6] * c.X) + (r[7] * c.Y) + (r[8] * c.Z));
        double f = Width / 2.0 / Math.Tan(Fov * Math.PI / 360);
        var result = new float[12];
        for (int i = 0; i < 6; i++)
        {
            Point3f p = KeypointPose.GenericFace[Conventions.KeypointNames[i]];
            double x = (r[0] * p.X) + (r[1] * p.Y) + (r[2] * p.Z) + tx;
            double y = (r[3] * p.X) + (r[4] * p.Y) + (r[5] * p.Z) + ty;
            double z = (r[6] * p.X) + (r[7] * p.Y) + (r[8] * p.Z) + tz;
            result[i * 2] = (float)((f * x / z) + (Width / 2.0));
            result[(i * 2) + 1] = (float)((f * y / z) + (Height / 2.0));
        }

        return result;
    }

    [Theory]
    [InlineData(0, 0, 0, 0, 0, 60)]
    [InlineData(25, -10, 8, 5, -3, 60)]
    [InlineData(-40, 15, -12, -12, 6, 45)]
    [InlineData(10, 20, 0, 3, 2, 90)]
    public void Recovers_the_pose_and_position_of_projected_keypoints(double yaw, double pitch, double roll, double x, double y, double z)
    {
        var solver = KeypointPose.For(Conventions.KeypointNames)!;
        float[] keypoints = Project(yaw, pitch, roll, (x, y, z));
        var r = new double[9];
        Assert.True(solver.Solve(keypoints, Width, Height, Fov, r, out var centre));
        (double ey, double ep, double er) = Rotation.ToEuler(r);
        Assert.Equal(yaw, ey, 0.5);
        Assert.Equal(pitch, ep, 0.5);
        Assert.Equal(roll, er, 0.5);
        Assert.Equal(x, centre.X, 0.5);
        Assert.Equal(y, centre.Y, 0.5);
        Assert.Equal(z, centre.Z, 0.5);
    }

    [Fact]
    public void Follows_a_moving_head_from_its_last_solution_allocating_nothing()
    {
        var solver = KeypointPose.For(Conventions.KeypointNames)!;
        var r = new double[9];
        var frames = new float[200][];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = Project(30 * Math.Sin(i * 0.05), 10 * Math.Cos(i * 0.07), 5 * Math.Sin(i * 0.03), (i * 0.05, 0, 55 + (i * 0.05)));
        }

        for (int i = 0; i < 10; i++)
        {
            Assert.True(solver.Solve(frames[i], Width, Height, Fov, r, out _));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        double worst = 0;
        for (int i = 10; i < frames.Length; i++)
        {
            Assert.True(solver.Solve(frames[i], Width, Height, Fov, r, out _));
            worst = Math.Max(worst, Math.Abs(Rotation.ToEuler(r).Yaw - (30 * Math.Sin(i * 0.05))));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(worst < 0.5, $"yaw off by {worst:F2}°");
    }

    [Fact]
    public void Non_finite_keypoints_and_too_few_known_names_give_no_pose()
    {
        var solver = KeypointPose.For(Conventions.KeypointNames)!;
        float[] keypoints = Project(0, 0, 0, (0, 0, 60));
        keypoints[3] = float.NaN;
        Assert.False(solver.Solve(keypoints, Width, Height, Fov, new double[9], out _));
        Assert.Null(KeypointPose.For(["right_eye", "left_eye", "chin"]));
        Assert.Null(KeypointPose.For(null));
    }

    [Fact]
    public void Rodrigues_agrees_with_opencv()
    {
        double[] v = [0.3, -0.5, 0.2];
        var mine = new double[9];
        KeypointPose.Rodrigues(v, mine);
        using var src = Mat.FromPixelData(3, 1, MatType.CV_64FC1, v);
        using var dst = new Mat();
        Cv2.Rodrigues(src, dst);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(dst.At<double>(i / 3, i % 3), mine[i], 9);
        }
    }
}
