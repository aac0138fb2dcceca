using System;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Training;

namespace HeadTracking.Trainer.Tests;

/// <summary>A pose head in the ray frame learns the rotation relative to the head centre's ray
/// and is scored in the camera's axes.</summary>
public class PoseFrameTests
{
    [Fact]
    public void Ray_frame_predictions_are_scored_in_the_camera_frame_and_camera_frame_ones_are_not_turned()
    {
        // One head 20 cm right of the axis and 10 cm up at 50 cm, yaw 10, pitch 5, roll -8 in the camera's axes.
        double x = 0.4, y = -0.2;
        var b = new Batch(1, 8, 0, 0);
        Span<double> camera = stackalloc double[9];
        Span<double> apparent = stackalloc double[9];
        Rotation.FromEuler(10, 5, -8, camera);
        Rotation.CameraToRay(camera, x, y, apparent);
        for (int j = 0; j < 9; j++)
        {
            b.Rotation[j] = (float)camera[j];
            b.RayRotation[j] = (float)apparent[j];
        }

        b.Ray[0] = (float)x;
        b.Ray[1] = (float)y;
        b.PoseWeight[0] = 1;

        double Yaw(string frame, float[] prediction)
        {
            var metrics = new Objective.Metrics(new ModelConfig { Heads = [HeadConfig.Of("pose", poseFrame: frame)] });
            metrics.Add([prediction], b);
            return metrics.Values["yaw_mae"] + metrics.Values["pitch_mae"] + metrics.Values["roll_mae"];
        }

        // The ray-frame head predicting the ray-frame truth is exact once turned back.
        Assert.True(Yaw("ray", b.RayRotation) < 1e-4);
        // The camera-frame head predicting the camera truth is exact as it is.
        Assert.True(Yaw("camera", b.Rotation) < 1e-4);
        // Mixing them up costs about the ray's angle (atan 0.4 = 21.8 degrees of yaw, 11 of pitch).
        Assert.True(Yaw("ray", b.Rotation) > 20);
        Assert.True(Yaw("camera", b.RayRotation) > 20);
    }
}
