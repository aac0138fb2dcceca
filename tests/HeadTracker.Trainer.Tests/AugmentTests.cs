using System;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;

namespace HeadTracking.Trainer.Tests;

public class AugmentTests(SynthFixture fixture) : IClassFixture<SynthFixture>
{
    private static readonly Scalar[] s_marks =
        [new(0, 0, 255), new(255, 0, 0), new(0, 255, 0), new(255, 0, 255), new(0, 255, 255), new(255, 255, 0)];

    private static readonly AugmentOptions s_strongGeometry = AugmentOptions.None with
    {
        FlipProbability = 0.5, MaxRotate = 30, MaxZoom = 1.3, MaxShift = 0.1, CropProbability = 0.5, MinCropArea = 0.7,
    };

    [Fact]
    public void Marks_are_found_where_the_transformed_labels_say()
    {
        // Six coloured marks at the keypoints, a white rectangle in the mask at the box.
        using var image = new Mat(180, 240, MatType.CV_8UC3, Scalar.All(90));
        using var mask = new Mat(180, 240, MatType.CV_8UC1, Scalar.All(0));
        double[][] points = [[80, 70, 1], [150, 75, 1], [115, 100, 1], [112, 130, 1], [55, 95, 1], [175, 100, 1]];
        for (int i = 0; i < 6; i++)
        {
            Cv2.Circle(image, new Point(points[i][0], points[i][1]), 5, s_marks[i], -1);
        }

        double[] box = [50, 50, 190, 150];
        Cv2.Rectangle(mask, new Rect(50, 50, 140, 100), Scalar.All(255), -1);
        var label = new HeadLabel { Image = "marks", Width = 240, Height = 180, Keypoints = points, Box = box, Center = [120, 100] };

        int flips = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            using Augmented a = Augment.Apply(image, mask, label, 128, s_strongGeometry, new Random(seed));
            flips += a.Flipped ? 1 : 0;
            for (int k = 0; k < 6; k++)
            {
                double[] p = a.Label.Keypoints![k];
                if (p[2] == 0)
                {
                    continue; // warped out of the frame
                }

                int mark = a.Flipped ? Conventions.KeypointFlip[k] : k;
                Vec3b colour = a.Image.At<Vec3b>((int)p[1], (int)p[0]);
                Scalar want = s_marks[mark];
                int d = Math.Abs(colour.Item0 - (int)want.Val0) + Math.Abs(colour.Item1 - (int)want.Val1) + Math.Abs(colour.Item2 - (int)want.Val2);
                Assert.True(d < 60, $"seed {seed}: keypoint {k} at ({p[0]:F1},{p[1]:F1}) shows {colour}, expected mark {mark}");
            }

            // The box follows the rectangle: its centre pixel is inside the warped mask, and the
            // mask lies inside the box.
            double[] b = a.Label.Box!;
            using var nonZero = new Mat();
            Cv2.FindNonZero(a.Mask!, nonZero);
            Point[] on = nonZero.Empty() ? [] : Enumerable.Range(0, nonZero.Rows).Select(i => nonZero.At<Point>(i)).ToArray();
            if (on.Length > 50)
            {
                int cx = (int)((b[0] + b[2]) / 2), cy = (int)((b[1] + b[3]) / 2);
                if (cx is >= 0 and < 128 && cy is >= 0 and < 128)
                {
                    Assert.Equal(255, a.Mask!.At<byte>(cy, cx));
                }

                Assert.All(on, p => Assert.True(p.X >= b[0] - 1.5 && p.X <= b[2] + 1.5 && p.Y >= b[1] - 1.5 && p.Y <= b[3] + 1.5, $"seed {seed}: mask pixel {p} outside the box"));
            }
        }

        Assert.InRange(flips, 10, 30);
    }

    [Fact]
    public void Flip_negates_yaw_and_roll_and_rotation_turns_roll()
    {
        double[] r = new double[9];
        Runtime.Pose.Rotation.FromEuler(20, 10, 5, r);
        var label = new HeadLabel { Image = "p", Width = 100, Height = 100, Pose = new PoseLabel(20, 10, 5, r, [1, 2, 50]), Intrinsics = [90, 90, 50, 50] };
        using var image = new Mat(100, 100, MatType.CV_8UC3, Scalar.All(0));

        using Augmented flipped = Augment.Apply(image, null, label, 100, AugmentOptions.None with { FlipProbability = 1 }, new Random(1));
        Assert.Equal(-20, flipped.Label.Pose!.Yaw, 6);
        Assert.Equal(10, flipped.Label.Pose.Pitch, 6);
        Assert.Equal(-5, flipped.Label.Pose.Roll, 6);
        Assert.Equal(-1, flipped.Label.Pose.Translation![0], 6);

        double[] frontal = new double[9];
        Runtime.Pose.Rotation.FromEuler(0, 0, 0, frontal);
        var straight = label with { Pose = new PoseLabel(0, 0, 0, frontal, [0, 0, 50]) };
        for (int seed = 0; seed < 10; seed++)
        {
            using Augmented rotated = Augment.Apply(image, null, straight, 100, AugmentOptions.None with { MaxRotate = 30 }, new Random(seed));
            Assert.Equal(0, rotated.Label.Pose!.Yaw, 6);
            Assert.Equal(0, rotated.Label.Pose.Pitch, 6);
            Assert.InRange(Math.Abs(rotated.Label.Pose.Roll), 0, 30);
        }
    }

    [Fact]
    public void Augmented_synthetic_labels_stay_true_to_the_3d_head()
    {
        // Re-project the six 3D keypoints with the augmented pose and intrinsics: they must land on
        // the augmented 2D keypoints, so every label moved consistently.
        Mesh face = Mesh.LoadCanonicalFace(ExternalData.Find(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb")));
        double[][] model = FaceIdentity.KeypointPositions(face);
        var strong = s_strongGeometry with { Brightness = 0.2, Contrast = 0.2, Saturation = 0.2, MaxNoise = 4, BlurProbability = 0.5 };
        for (int i = 0; i < 30; i++)
        {
            using SynthSample s = fixture.Synth.Generate(i);
            using Augmented a = Augment.Apply(s.Image, s.Mask, s.Label, 96, strong, new Random(i));
            PoseLabel pose = a.Label.Pose!;
            double[] k = a.Label.Intrinsics!, r = pose.Rotation, t = pose.Translation!;
            for (int j = 0; j < 6; j++)
            {
                double[] m = model[j];
                double x = (r[0] * m[0]) + (r[1] * m[1]) + (r[2] * m[2]) + t[0];
                double y = (r[3] * m[0]) + (r[4] * m[1]) + (r[5] * m[2]) + t[1];
                double z = (r[6] * m[0]) + (r[7] * m[1]) + (r[8] * m[2]) + t[2];
                double u = (k[0] * x / z) + k[2], v = (k[1] * y / z) + k[3];
                double[] p = a.Label.Keypoints![j];
                Assert.True(Math.Abs(u - p[0]) < 0.05 && Math.Abs(v - p[1]) < 0.05,
                    $"sample {i} keypoint {j}: re-projected ({u:F2},{v:F2}), label ({p[0]:F2},{p[1]:F2}), flipped {a.Flipped}");
            }

            Assert.Equal(96, a.Image.Width);
            Assert.Equal(96, a.Mask!.Width);
        }
    }
}
