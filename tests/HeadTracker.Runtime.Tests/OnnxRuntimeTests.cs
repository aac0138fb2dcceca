using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Tests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public class OnnxRuntimeTests
{
    [Fact]
    public void BlazeFace_runs_one_frame_and_scores_a_real_face_above_a_blank_frame()
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Repo.BlazeFaceFront, options);

        Assert.Equal(new[] { 1, 128, 128, 3 }, session.InputMetadata.Values.Single().Dimensions);

        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        Assert.False(photo.Empty());
        float faceScore = BestScore(session, photo);

        using var grey = new Mat(480, 640, MatType.CV_8UC3, new Scalar(128, 128, 128));
        float blankScore = BestScore(session, grey);

        Assert.True(faceScore > 0.5f, $"best face score on a real photo was {faceScore}");
        Assert.True(blankScore < 0.2f, $"best face score on a blank frame was {blankScore}");
    }

    /// <summary>Runs BlazeFace on the whole frame (squashed to 128x128) and returns the best
    /// anchor's sigmoid score.</summary>
    private static float BestScore(InferenceSession session, Mat bgr)
    {
        using var small = new Mat();
        Cv2.Resize(bgr, small, new Size(128, 128), interpolation: InterpolationFlags.Area);
        var input = new DenseTensor<float>(new[] { 1, 128, 128, 3 });
        for (int y = 0; y < 128; y++)
        {
            for (int x = 0; x < 128; x++)
            {
                Vec3b p = small.At<Vec3b>(y, x);
                input[0, y, x, 0] = (p.Item2 / 127.5f) - 1f; // RGB in [-1, 1]
                input[0, y, x, 1] = (p.Item1 / 127.5f) - 1f;
                input[0, y, x, 2] = (p.Item0 / 127.5f) - 1f;
            }
        }

        string inputName = session.InputMetadata.Keys.Single();
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> outputs =
            session.Run(new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(inputName, input) });

        var byName = outputs.ToDictionary(o => o.Name, o => o.AsTensor<float>());
        Assert.Equal(new[] { 1, 512, 1 }, byName["Identity:0"].Dimensions.ToArray());
        Assert.Equal(new[] { 1, 384, 1 }, byName["Identity_1:0"].Dimensions.ToArray());
        Assert.Equal(new[] { 1, 512, 16 }, byName["Identity_2:0"].Dimensions.ToArray());
        Assert.Equal(new[] { 1, 384, 16 }, byName["Identity_3:0"].Dimensions.ToArray());

        float bestLogit = byName["Identity:0"].Concat(byName["Identity_1:0"]).Max();
        Assert.True(float.IsFinite(bestLogit));
        return 1f / (1f + MathF.Exp(-bestLogit));
    }
}
