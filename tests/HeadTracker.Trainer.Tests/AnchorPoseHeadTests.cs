using System.Linq;
using HeadTracking.Runtime.Preprocessing;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// Tests whose untrained layers are drawn from torch's one process-wide generator after
/// <c>manual_seed</c>: beside other test classes that draw from it or reseed it, the draw (and so a
/// bound on what random layers do) would depend on timing. They run alone.
/// </summary>
[CollectionDefinition(nameof(SeededDrawCollection), DisableParallelization = true)]
public sealed class SeededDrawCollection
{
}

[Collection(nameof(SeededDrawCollection))]
public class AnchorPoseHeadTests
{
    /// <summary>
    /// A pose head by anchors (<c>--pose-head anchor</c>) reads the head where it is, with the same
    /// weights everywhere: sample1.jpg's face at 64x64, moved by whole stride-16 cells on a grey
    /// 128x128 canvas, gets the same rotation from a head that has not learnt anything (BlazeFace's
    /// scores, random rotation layers), within 1 degree (measured 0.28); the fully connected head
    /// (regress) of the same seed turns by more than 10 (measured 45.5), since each place has its own weights.
    /// </summary>
    [Fact]
    public void An_anchor_pose_head_gives_a_moved_face_the_same_rotation()
    {
        using var detector = new HeadTracking.Runtime.Detection.BlazeFaceDetector(Repo.BlazeFaceFront);
        using Mat face = BlazeFaceImportTests.FirstFace(detector, 1.6f, 64);

        float[] Canvas(int x, int y)
        {
            using var canvas = new Mat(128, 128, MatType.CV_8UC3, new Scalar(128, 128, 128));
            face.CopyTo(new Mat(canvas, new Rect(x, y, 64, 64)));
            float[] nhwc = new float[128 * 128 * 3];
            using var letterbox = new Letterbox(128, 128, 1f / 127.5f, -1f);
            letterbox.Run(canvas, nhwc);
            return nhwc;
        }

        float[][] inputs = [Canvas(16, 16), Canvas(48, 16), Canvas(32, 48)];
        double Turn(string locator, out string loaded)
        {
            manual_seed(3);
            var config = new ModelConfig { Backbone = "blazeface", InputSize = 128, Heads = [new HeadConfig { Kind = "pose", Locator = locator, Frame = "ray" }] };
            using var net = new MultiHeadNet(config);
            loaded = string.Join("; ", PretrainedBackbone.Load(net, Repo.BlazeFaceFront).Heads);
            Assert.False(net.Heads.Single().PartOfBody); // its rotation layers are new: they learn from the start
            net.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            float[][] r = [.. inputs.Select(nhwc => net.forward(tensor(nhwc, [1, 128, 128, 3]).permute(0, 3, 1, 2).contiguous())[0].data<float>().ToArray())];
            return r.Skip(1).Max(m => BlazeFaceImportTests.AngleDegrees(r[0], m));
        }

        double anchored = Turn("anchor", out string anchorLog), regressed = Turn("regress", out string regressLog);
        Assert.Equal("pose: BlazeFace's anchor scores (its rotation layers start at random)", anchorLog);
        Assert.Equal("", regressLog);
        Assert.True(anchored < 1.0, $"anchor head: the moved face turned the rotation by {anchored:F2} degrees");
        Assert.True(regressed > 10, $"regress head: {regressed:F2} degrees, anchor head {anchored:F2}");
    }
}
